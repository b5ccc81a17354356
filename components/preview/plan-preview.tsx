"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ModifiedPropertiesTable } from "@/components/connections/modified-properties";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Table } from "@/components/ui/table";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { describeProblem } from "@/lib/client/api";
import { type Preview, type PreviewKind, useLatestPreview, usePreviewApi } from "@/lib/client/previews";
import { queryKeys } from "@/lib/client/query-keys";
import { applyConsequences } from "./apply-consequences";

type Kind = Exclude<PreviewKind, "skip">;

const PAGE_SIZE = 50;
const KINDS: [Kind | "all", string][] = [
  ["all", "All changes"],
  ["create", "Create"],
  ["update", "Update"],
  ["disable", "Disable"],
  ["delete", "Delete"],
  ["fail", "Failures"],
];
const CHECK_TONES = { pass: "success", info: "info", warn: "warning", fail: "error" } as const;

/**
 * "Preview next cycle": what the next cycle would do, grouped by action with old → new values, the
 * Dialpad impact and pre-flight checks; then apply exactly that plan, or discard it.
 */
export function PlanPreview({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const previews = usePreviewApi(connectionId);
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind | "all">("all");
  const [offset, setOffset] = useState(0);
  const [confirming, setConfirming] = useState(false);

  const preview = useLatestPreview(connectionId, { kind, offset, limit: PAGE_SIZE });

  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.previewAll(connectionId) });
  const request = useMutation({
    mutationFn: previews.request,
    onSuccess: () => {
      setOffset(0);
      refresh();
    },
  });
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: "apply" | "discard" }) =>
      previews.decide(id, decision),
    onSuccess: () => {
      setConfirming(false);
      refresh();
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.status(connectionId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.logsAll(connectionId) });
    },
  });

  const data = preview.data;
  const busy = data?.status === "computing" || data?.status === "applying";
  const readOnlyReason = canWrite
    ? null
    : "Your role can view previews but not start or apply them (Reader).";

  return (
    <div className="space-y-6">
      <Card
        title="Preview next cycle"
        description="Computes everything the next cycle would do — without writing to Dialpad — so you can review it, then apply exactly this plan or discard it."
      >
        <div className="flex flex-wrap items-center gap-3">
          <Button
            onClick={() => request.mutate()}
            disabled={!canWrite || request.isPending || busy}
            aria-describedby={readOnlyReason ? "preview-readonly" : undefined}
          >
            {request.isPending || data?.status === "computing" ? "Computing the plan…" : "Preview next cycle"}
          </Button>
          {readOnlyReason && (
            <p id="preview-readonly" className="text-sm text-slate-600 dark:text-slate-400">
              {readOnlyReason}
            </p>
          )}
        </div>
        {request.error && (
          <Alert tone="error" className="mt-3" title="The preview could not start">
            {describeProblem(request.error)}
          </Alert>
        )}
        {preview.isPending && (
          <p className="mt-3 text-sm" role="status">
            Loading…
          </p>
        )}
        {preview.error && (
          <Alert tone="error" className="mt-3" title="Could not load the preview">
            {describeProblem(preview.error)}
          </Alert>
        )}
        {data === null && <p className="mt-3 text-sm">No cycle has been previewed yet.</p>}
        {data && <PreviewState preview={data} />}
      </Card>

      {data?.summary &&
        (data.status === "ready" || data.status === "applying" || data.status === "applied") && (
          <>
            <Summary preview={data} />
            {data.status === "ready" && (
              <Card title="Decide">
                {data.summary.needsApproval && (
                  <Alert tone="warning" className="mb-3" title="Approval required">
                    This plan disables or deletes {data.summary.impact.disablesOrDeletes} object(s), and this
                    connection requires approval for that. Applying it approves them.
                  </Alert>
                )}
                <div className="flex flex-wrap gap-3">
                  <Button onClick={() => setConfirming(true)} disabled={!canWrite || decide.isPending}>
                    Apply this plan
                  </Button>
                  <Button
                    variant="secondary"
                    onClick={() => decide.mutate({ id: data.id, decision: "discard" })}
                    disabled={!canWrite || decide.isPending}
                  >
                    Discard
                  </Button>
                </div>
                {decide.error && (
                  <Alert tone="error" className="mt-3" title="That did not work">
                    {describeProblem(decide.error)}
                  </Alert>
                )}
              </Card>
            )}
            <Operations
              preview={data}
              kind={kind}
              onKind={(next) => {
                setKind(next);
                setOffset(0);
              }}
              offset={offset}
              onOffset={setOffset}
            />
          </>
        )}

      <ConfirmDialog
        open={confirming && data?.status === "ready"}
        title="Apply the previewed plan?"
        summary={data?.summary ? applyConsequences(data.summary.impact.counts) : undefined}
        summaryTestId="apply-consequences"
        confirmLabel="Yes, apply it"
        isPending={decide.isPending}
        onConfirm={() => data && decide.mutate({ id: data.id, decision: "apply" })}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Only the operations shown here are sent to Dialpad. Anything that changed in Entra ID or Dialpad
          since the preview is skipped and left for the next cycle.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function PreviewState({ preview }: { preview: Preview }) {
  const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "");
  switch (preview.status) {
    case "computing":
      return (
        <p className="mt-3 text-sm" role="status">
          Computing the plan (requested by {preview.requestedBy} at {when(preview.createdAt)})…
        </p>
      );
    case "failed":
      return (
        <Alert tone="error" className="mt-3" title="The preview failed">
          {preview.error?.message ?? "Unknown error"}
        </Alert>
      );
    case "applying":
      return (
        <p className="mt-3 text-sm" role="status">
          Applying the plan…
        </p>
      );
    case "applied":
      return (
        <Alert tone="success" className="mt-3" title="Applied">
          <p data-testid="preview-applied">
            Applied by {preview.decidedBy} at {when(preview.decidedAt)}: {preview.result?.counts.created ?? 0}{" "}
            created, {preview.result?.counts.updated ?? 0} updated, {preview.result?.counts.disabled ?? 0}{" "}
            disabled, {preview.result?.counts.deleted ?? 0} deleted, {preview.result?.counts.failed ?? 0}{" "}
            failed.
          </p>
          {(preview.result?.notApplied.count ?? 0) > 0 && (
            <p className="mt-1">
              {preview.result?.notApplied.count} change(s) were not applied because they changed after the
              preview; the next cycle plans them again.
            </p>
          )}
        </Alert>
      );
    case "discarded":
      return (
        <p className="mt-3 text-sm">
          The last preview was discarded by {preview.decidedBy} at {when(preview.decidedAt)}.
        </p>
      );
    default:
      return (
        <p className="mt-3 text-sm" data-testid="preview-ready">
          {preview.status === "ready" ? "Ready" : "Superseded"}: computed {when(preview.readyAt)} for{" "}
          {preview.requestedBy}.
        </p>
      );
  }
}

function Summary({ preview }: { preview: Preview }) {
  const summary = preview.summary!;
  const { impact } = summary;
  const rows: [Kind, string][] = [
    ["create", "Create"],
    ["update", "Update"],
    ["disable", "Disable"],
    ["delete", "Delete"],
    ["fail", "Would fail"],
  ];
  const offices = Object.entries(impact.officesOfNewUsers).sort(([, a], [, b]) => b - a);
  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <Card title={`Plan (${summary.cycleType} cycle)`}>
        <Table
          variant="compact"
          caption="Planned changes by action"
          rows={rows}
          rowKey={([kind]) => kind}
          columns={[
            { header: "Action", rowHeader: true, cell: ([, label]) => label },
            {
              header: "Users",
              testId: ([kind]) => `plan-${kind}-users`,
              cell: ([kind]) => impact.counts[kind].users,
            },
            { header: "Groups", cell: ([kind]) => impact.counts[kind].groups },
          ]}
        />
        <p className="mt-3 text-sm">
          Group members: {impact.memberships.added} added, {impact.memberships.removed} removed in{" "}
          {impact.memberships.groups} group(s). {summary.unchanged} object(s) need no change.
        </p>
        <h3 className="mt-4 text-sm font-semibold">Dialpad impact</h3>
        <p className="text-sm" data-testid="new-seats">
          {impact.newSeats} new licence(s)
        </p>
        {offices.length > 0 && (
          <ul className="mt-1 text-sm" aria-label="Offices new users land in">
            {offices.map(([office, count]) => (
              <li key={office}>
                {office || "No office mapped (Dialpad places by country or the main office)"}: {count}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Pre-flight checks">
        <ul className="space-y-3" aria-label="Pre-flight checks">
          {summary.preflight.map((check) => (
            <li key={check.id} className="text-sm">
              <div className="flex items-center gap-2">
                <Badge tone={CHECK_TONES[check.status]}>{check.status}</Badge>
                <span className="font-medium">{check.title}</span>
              </div>
              <p className="mt-1 text-slate-700 dark:text-slate-300">{check.detail}</p>
              {check.items && (
                <ul className="mt-1 list-disc pl-5 text-slate-700 dark:text-slate-300">
                  {check.items.map((item) => (
                    <li key={item}>{item}</li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}

function Operations({
  preview,
  kind,
  onKind,
  offset,
  onOffset,
}: {
  preview: Preview;
  kind: Kind | "all";
  onKind: (kind: Kind | "all") => void;
  offset: number;
  onOffset: (offset: number) => void;
}) {
  const { items, total } = preview.operations;
  return (
    <Card title="Operations">
      <div className="flex flex-wrap items-center gap-3">
        <label htmlFor="preview-kind" className="text-sm font-medium">
          Show
        </label>
        <select
          id="preview-kind"
          value={kind}
          onChange={(event) => onKind(event.target.value as Kind | "all")}
          className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900"
        >
          {KINDS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <span className="text-sm text-slate-600 dark:text-slate-400">
          {total === 0 ? "Nothing" : `${offset + 1}–${Math.min(offset + PAGE_SIZE, total)} of ${total}`}
        </span>
        <Button
          variant="secondary"
          disabled={offset === 0}
          onClick={() => onOffset(Math.max(0, offset - PAGE_SIZE))}
        >
          Previous
        </Button>
        <Button
          variant="secondary"
          disabled={offset + PAGE_SIZE >= total}
          onClick={() => onOffset(offset + PAGE_SIZE)}
        >
          Next
        </Button>
      </div>
      <ul className="mt-3 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Planned operations">
        {items.map((operation) => (
          <li key={operation.fingerprint} className="py-2 text-sm">
            <div className="flex flex-wrap items-center gap-2">
              <Badge
                tone={
                  operation.kind === "fail"
                    ? "error"
                    : operation.kind === "create"
                      ? "success"
                      : operation.kind === "update"
                        ? "info"
                        : "warning"
                }
              >
                {operation.kind === "skip" ? "Skip" : operation.action}
              </Badge>
              <span className="font-medium">
                {operation.objectType === "Group" ? "Group " : ""}
                {operation.displayName ?? operation.sourceId}
              </span>
              {operation.office !== undefined && (
                <span className="text-xs text-slate-600 dark:text-slate-400">
                  office: {operation.office ?? "none"}
                </span>
              )}
            </div>
            <p className="text-xs text-slate-600 dark:text-slate-400">{operation.reason}</p>
            {operation.modifiedProperties.length > 0 && (
              <details className="mt-1">
                <summary className="cursor-pointer text-xs text-blue-700 dark:text-blue-400">
                  {operation.modifiedProperties.length} attribute(s)
                </summary>
                <ModifiedPropertiesTable properties={operation.modifiedProperties} />
              </details>
            )}
          </li>
        ))}
      </ul>
      {preview.memberships.total > 0 && (
        <details className="mt-4">
          <summary className="cursor-pointer text-sm font-medium">
            Group member changes ({preview.memberships.total} group(s))
          </summary>
          <ul className="mt-2 text-sm">
            {preview.memberships.items.map((membership) => (
              <li key={membership.groupSourceId}>
                {membership.displayName ?? membership.groupSourceId}: +{membership.add.length} / −
                {membership.remove.length}
              </li>
            ))}
          </ul>
        </details>
      )}
    </Card>
  );
}
