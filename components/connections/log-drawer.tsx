"use client";

import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { describeProblem } from "@/lib/client/api";
import { type ProvisioningLog, useLogApi } from "@/lib/client/logs";
import { queryKeys } from "@/lib/client/query-keys";
import { cn } from "@/components/ui/cn";
import { ModifiedPropertiesTable, type ModifiedPropertyRow } from "./modified-properties";
import { StepList } from "./step-list";

const TABS = [
  { id: "steps", label: "Steps" },
  { id: "troubleshooting", label: "Troubleshooting & recommendations" },
  { id: "modified", label: "Modified properties" },
  { id: "summary", label: "Summary" },
] as const;
type TabId = (typeof TABS)[number]["id"];

/**
 * One log entry's details as Entra's side panel shows them, on a native modal <dialog> docked to the
 * right: showModal() traps focus and makes the table inert, Escape closes through the parent's state,
 * and focus goes back to the row's Details button (the element that had focus when it opened).
 */
export function LogDrawer({
  entry,
  connectionId,
  canWrite,
  onClose,
}: {
  entry: ProvisioningLog;
  connectionId: string;
  canWrite: boolean;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [tab, setTab] = useState<TabId>("steps");
  const tabRefs = useRef<Partial<Record<TabId, HTMLButtonElement | null>>>({});
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    tabRefs.current.steps?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const next =
      event.key === "ArrowRight"
        ? (index + 1) % TABS.length
        : event.key === "ArrowLeft"
          ? (index - 1 + TABS.length) % TABS.length
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? TABS.length - 1
              : null;
    if (next === null) return;
    event.preventDefault();
    setTab(TABS[next]!.id);
    tabRefs.current[TABS[next]!.id]?.focus();
  };

  const modified = Array.isArray(entry.modifiedProperties)
    ? (entry.modifiedProperties as ModifiedPropertyRow[])
    : [];
  const name = entry.sourceIdentity.displayName ?? entry.sourceIdentity.id ?? "Log entry";

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onCloseRef.current();
      }}
      className="fixed inset-y-0 right-0 left-auto m-0 h-full max-h-none w-full max-w-2xl border-l border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-950/40 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      <div className="flex h-full flex-col">
        <div className="flex items-start justify-between gap-4 border-b border-slate-200 px-5 py-4 dark:border-slate-800">
          <div>
            <h2 id={titleId} className="text-lg font-semibold">
              {name}
            </h2>
            <p className="mt-1 flex items-center gap-2 text-sm text-slate-600 dark:text-slate-400">
              {entry.action} · {entry.objectType} · {new Date(entry.activityDateTime).toLocaleString()}
              <Badge
                tone={
                  entry.status === "Success" ? "success" : entry.status === "Failure" ? "error" : "neutral"
                }
              >
                {entry.status}
              </Badge>
            </p>
          </div>
          <button
            type="button"
            onClick={() => onCloseRef.current()}
            aria-label="Close"
            className="rounded-md px-2 py-1 text-xl leading-none text-slate-500 hover:bg-slate-100 focus-visible:ring-2 focus-visible:ring-blue-500 focus-visible:outline-none dark:text-slate-400 dark:hover:bg-slate-800"
          >
            ×
          </button>
        </div>
        <div
          role="tablist"
          aria-label="Log entry details"
          className="flex flex-wrap gap-1 border-b border-slate-200 px-5 dark:border-slate-800"
        >
          {TABS.map((t) => (
            <button
              key={t.id}
              ref={(el) => {
                tabRefs.current[t.id] = el;
              }}
              type="button"
              role="tab"
              id={`${titleId}-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`${titleId}-panel`}
              tabIndex={tab === t.id ? 0 : -1}
              onClick={() => setTab(t.id)}
              onKeyDown={onTabKey}
              className={cn(
                "-mb-px border-b-2 px-3 py-2 text-sm font-medium focus-visible:ring-2 focus-visible:ring-blue-500 focus-visible:outline-none",
                tab === t.id
                  ? "border-blue-700 text-blue-800 dark:text-blue-300"
                  : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400",
              )}
            >
              {t.label}
            </button>
          ))}
        </div>
        <div
          role="tabpanel"
          id={`${titleId}-panel`}
          aria-labelledby={`${titleId}-tab-${tab}`}
          tabIndex={0}
          className="flex-1 overflow-y-auto px-5 py-4 text-sm"
        >
          {tab === "steps" && <StepList steps={entry.steps} />}
          {tab === "troubleshooting" && entry.status === "Failure" && (
            <RetryChange entry={entry} connectionId={connectionId} canWrite={canWrite} />
          )}
          {tab === "troubleshooting" &&
            (entry.error ? (
              <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2">
                <Item term="Error code">
                  <span className="font-mono">{entry.error.code ?? "—"}</span>
                </Item>
                <Item term="Category">{entry.error.category ?? "—"}</Item>
                <Item term="Reason">{entry.error.reason ?? "—"}</Item>
                <Item term="Recommended action">{entry.error.recommendedAction ?? "—"}</Item>
              </dl>
            ) : (
              <p>No problems: this change needed no troubleshooting.</p>
            ))}
          {tab === "modified" &&
            (modified.length ? (
              <ModifiedPropertiesTable properties={modified} />
            ) : (
              <p>No properties were modified.</p>
            ))}
          {tab === "summary" && (
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2 [overflow-wrap:anywhere]">
              <Item term="Activity date">{new Date(entry.activityDateTime).toLocaleString()}</Item>
              {entry.changeSeenAt && (
                <Item term="Seen in Entra ID">
                  {new Date(entry.changeSeenAt).toLocaleString()} (continuous mode; in Dialpad{" "}
                  {Math.max(
                    0,
                    Math.round((Date.parse(entry.activityDateTime) - Date.parse(entry.changeSeenAt)) / 1000),
                  )}{" "}
                  s later)
                </Item>
              )}
              <Item term="Action">{entry.action}</Item>
              <Item term="Status">{entry.status}</Item>
              <Item term="Source identity">
                {entry.sourceIdentity.displayName ?? "—"}
                <Id value={entry.sourceIdentity.id} /> <span className="text-xs">(Microsoft Entra ID)</span>
              </Item>
              <Item term="Target identity">
                {entry.targetIdentity.displayName ?? "—"}
                <Id value={entry.targetIdentity.id} /> <span className="text-xs">(Dialpad)</span>
              </Item>
              <Item term="Change ID">
                <Id value={entry.changeId} />
              </Item>
              <Item term="Cycle ID">
                <Id value={entry.cycleId} />
              </Item>
              <Item term="Job ID">
                <Id value={entry.jobId} />
              </Item>
              <Item term="Duration">{entry.durationMs.toLocaleString()} ms</Item>
              <Item term="Initiated by">{entry.initiatedBy}</Item>
              {entry.replayOf && (
                <Item term="Replay of">
                  <Id value={entry.replayOf} />
                </Item>
              )}
            </dl>
          )}
        </div>
      </div>
    </dialog>
  );
}

function Item({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-slate-600 dark:text-slate-400">{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Id({ value }: { value: string | null }) {
  return <span className="block font-mono text-xs">{value ?? "—"}</span>;
}

/** Replay: retry this failed change now, re-planned from the current source data, as a new log entry. */
function RetryChange({
  entry,
  connectionId,
  canWrite,
}: {
  entry: ProvisioningLog;
  connectionId: string;
  canWrite: boolean;
}) {
  const logApi = useLogApi(connectionId);
  const queryClient = useQueryClient();
  const retry = useMutation({
    mutationFn: () => logApi.replay(entry.id),
    onSuccess: () =>
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.logsAll(connectionId) }),
  });
  return (
    <div className="mb-4 space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <Button onClick={() => retry.mutate()} disabled={!canWrite || retry.isPending || retry.isSuccess}>
          {retry.isPending ? "Retrying…" : "Retry this change now"}
        </Button>
        <p className="text-xs text-slate-600 dark:text-slate-400">
          {canWrite
            ? "Re-planned from the current Entra ID data; the retry gets its own log entry linked to this one."
            : "Your role can read logs but not retry changes (Reader)."}
        </p>
      </div>
      {retry.error && (
        <Alert tone="error" title="The retry could not run">
          {describeProblem(retry.error)}
        </Alert>
      )}
      {retry.data && (
        <Alert
          tone={retry.data.status === "Failure" ? "error" : "success"}
          title={`Retried: ${retry.data.status}`}
        >
          <p data-testid="replay-result">
            {retry.data.action} — {retry.data.status}
            {retry.data.statusInfo.reason ? `: ${retry.data.statusInfo.reason}` : ""}
          </p>
          {retry.data.logId && <p className="mt-1 font-mono text-xs">New log entry {retry.data.logId}</p>}
        </Alert>
      )}
    </div>
  );
}
