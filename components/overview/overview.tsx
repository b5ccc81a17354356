"use client";

import Link from "next/link";
import { useId, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { describeProblem } from "@/lib/client/api";
import { useMe } from "@/lib/client/me";
import { type CycleNotice, controlReasons, currentNotice, READER_REASON } from "./control-state";
import { CurrentCycle, LastCycle, Row } from "./cycle-cards";
import { ScheduleCard } from "./schedule-card";
import { heldBySourceShrink } from "./format";
import { HeldDeletions, QuarantineBanner } from "./quarantine";
import { ReconcileSummary } from "@/components/reconcile/reconcile-summary";
import { RefusedAttributes } from "./refused-attributes";
import { RestartDialog } from "./restart-dialog";
import { type StatusCode, runningCycle, useControlMutations, useStatus } from "@/lib/client/status";

const STATUS_WORDS: Record<
  StatusCode,
  { label: string; tone: "neutral" | "success" | "warning" | "error" | "info"; meaning: string }
> = {
  NotConfigured: {
    label: "Not configured",
    tone: "neutral",
    meaning: "Enter the tenant URL and secret token in Provisioning settings and save them before starting.",
  },
  NotRun: {
    label: "Not run",
    tone: "info",
    meaning:
      "Provisioning has never run. Start runs the first (initial) cycle, which reads every assigned user and group.",
  },
  Active: {
    label: "Active",
    tone: "success",
    meaning: "Provisioning runs on its schedule and keeps Dialpad in step with Entra ID.",
  },
  Paused: {
    label: "Paused",
    tone: "warning",
    meaning: "Provisioning is stopped. No cycle runs until you press Start.",
  },
  Quarantine: {
    label: "Quarantine",
    tone: "error",
    meaning:
      "Provisioning is quarantined: cycles run rarely until the cause is fixed. See the details below.",
  },
};

export function Overview({ connectionId }: { connectionId: string }) {
  const status = useStatus(connectionId);
  const me = useMe();
  const mutations = useControlMutations(connectionId);
  const [restartOpen, setRestartOpen] = useState(false);
  const [confirmStop, setConfirmStop] = useState(false);
  const [confirmDeletes, setConfirmDeletes] = useState(false);
  const [notice, setNotice] = useState<CycleNotice | null>(null);
  const reasonId = useId();

  const data = status.data;
  // A configuration error fails every cycle until an admin fixes it: the badge says so rather than
  // "Active" (quarantine and pause still take precedence, since they say why nothing runs at all).
  const configurationFailure = data?.code === "Active" ? data.configurationFailure : null;
  const statusWords = data
    ? configurationFailure
      ? {
          label: "Failed — configuration",
          tone: "error" as const,
          meaning: `The last cycle stopped at once because of a configuration error: ${configurationFailure.message}`,
        }
      : STATUS_WORDS[data.code]
    : null;
  const running = Boolean(runningCycle(data));
  const reasons = controlReasons(
    data,
    { loaded: Boolean(me.data), canWrite: me.data?.canWrite ?? false },
    status.dataUpdatedAt,
  );
  const readerReason = reasons.start === READER_REASON ? READER_REASON : null;
  const noticeText = currentNotice(notice, data);
  const lastCycleId = data?.lastCycle?.id ?? null;

  const mutationError = mutations.start.error ?? mutations.stop.error ?? mutations.allowDeletes.error ?? null;

  return (
    <div className="space-y-4">
      <Card>
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-h-14">
            <div className="flex items-center gap-2">
              <h2 className="text-base font-semibold">Current status</h2>
              {statusWords && (
                <span data-testid="status-badge">
                  <Badge tone={statusWords.tone}>{statusWords.label}</Badge>
                </span>
              )}
            </div>
            <p
              className="mt-1 text-sm text-slate-700 dark:text-slate-300"
              role={status.isPending ? "status" : undefined}
            >
              {status.isPending ? "Loading the provisioning status…" : (statusWords?.meaning ?? "")}
            </p>
            {configurationFailure && (
              <p className="mt-1 text-sm" data-testid="configuration-failure-action">
                {configurationFailure.recommendedAction}{" "}
                <Link
                  className="text-blue-700 underline dark:text-blue-400"
                  href={`/connections/${connectionId}/mappings`}
                >
                  Open Mappings
                </Link>
              </p>
            )}
            {data?.code === "NotConfigured" && (
              <p className="mt-1 text-sm">
                <Link
                  className="text-blue-700 underline dark:text-blue-400"
                  href={`/connections/${connectionId}/settings`}
                >
                  Open Provisioning settings
                </Link>
              </p>
            )}
          </div>
          <div className="flex flex-wrap gap-2">
            <Button
              onClick={() => {
                setNotice(null);
                mutations.start.mutate(undefined, {
                  onSuccess: (result) =>
                    setNotice(
                      result.outcome === "already-running"
                        ? { kind: "plain", text: "A cycle is already running.", cycleId: lastCycleId }
                        : {
                            kind: "queued",
                            text: "Provisioning started: a cycle is queued and begins in a moment.",
                            cycleId: lastCycleId,
                          },
                    ),
                });
              }}
              disabled={Boolean(reasons.start) || mutations.start.isPending}
              aria-describedby={reasons.start ? reasonId : undefined}
            >
              {mutations.start.isPending ? "Starting…" : "Start"}
            </Button>
            <Button
              variant="secondary"
              onClick={() => setConfirmStop(true)}
              disabled={Boolean(reasons.stop) || mutations.stop.isPending}
              aria-describedby={reasons.stop ? reasonId : undefined}
            >
              Stop
            </Button>
            <Button
              variant="secondary"
              onClick={() => {
                mutations.restart.reset();
                setRestartOpen(true);
              }}
              disabled={Boolean(reasons.restart)}
              aria-describedby={reasons.restart ? reasonId : undefined}
            >
              Restart
            </Button>
          </div>
        </div>
        <p id={reasonId} className="mt-2 min-h-5 text-xs text-slate-600 dark:text-slate-400">
          {reasons.shown.join(" ")}
        </p>
        {noticeText && (
          <Alert tone="info" className="mt-2">
            {noticeText}
          </Alert>
        )}
        {mutationError ? (
          <Alert tone="error" title="The action failed" className="mt-2">
            {describeProblem(mutationError)}
          </Alert>
        ) : null}
        {status.error && (
          <Alert tone="error" title="Could not load the provisioning status" className="mt-2">
            {describeProblem(status.error)}{" "}
            <button type="button" className="underline" onClick={() => void status.refetch()}>
              Try again
            </button>
          </Alert>
        )}
      </Card>

      {data?.quarantine && <QuarantineBanner quarantine={data.quarantine} connectionId={connectionId} />}

      {data && <RefusedAttributes refused={data.refusedAttributes ?? []} connectionId={connectionId} />}
      <ReconcileSummary connectionId={connectionId} />

      {data && data.heldChanges.count > 0 && (
        <HeldDeletions
          held={data.heldChanges}
          bySourceShrink={heldBySourceShrink(data.quarantine?.error)}
          disabledReason={readerReason}
          isPending={mutations.allowDeletes.isPending}
          onAllow={() => setConfirmDeletes(true)}
        />
      )}

      <div className="grid gap-4 md:grid-cols-2">
        <CurrentCycle status={status} />
        <Card
          title="Objects in Dialpad"
          description="Users and groups this connection has linked in Dialpad."
        >
          <dl className="grid min-h-12 grid-cols-[max-content_1fr] gap-x-4 gap-y-2 text-sm">
            {(["User", "Group"] as const).map((type) => (
              <Row key={type} term={type === "User" ? "Users" : "Groups"}>
                {data ? (data.synchronizedEntryCountByType[type] ?? 0).toLocaleString() : "…"}
              </Row>
            ))}
          </dl>
        </Card>
      </div>

      <LastCycle data={data} isPending={status.isPending} />
      <ScheduleCard data={data} />

      <p className="text-xs text-slate-500 dark:text-slate-400">
        Job ID <span className="font-mono">{data?.jobId ?? "—"}</span> · Cycle ID{" "}
        <span className="font-mono">{data?.cycleId ?? "—"}</span> ·{" "}
        <Link
          className="text-blue-700 underline dark:text-blue-400"
          href={`/connections/${connectionId}/logs`}
        >
          View provisioning logs
        </Link>
      </p>

      <RestartDialog
        open={restartOpen}
        isPending={mutations.restart.isPending}
        error={mutations.restart.error}
        onClose={() => setRestartOpen(false)}
        onRestart={(criteria) =>
          mutations.restart.mutate(criteria, {
            onSuccess: () => {
              setRestartOpen(false);
              setNotice({
                kind: "queued",
                text: "Provisioning restarted: a cycle is queued and begins in a moment.",
                cycleId: lastCycleId,
              });
            },
          })
        }
      />
      <ConfirmDialog
        open={confirmStop}
        title="Stop provisioning?"
        confirmLabel="Stop provisioning"
        pendingLabel="Stopping…"
        isPending={mutations.stop.isPending}
        onCancel={() => setConfirmStop(false)}
        onConfirm={() =>
          mutations.stop.mutate(undefined, {
            onSuccess: () => {
              setConfirmStop(false);
              setNotice(
                running
                  ? {
                      kind: "stopping",
                      text: "Stopping: the page of users being processed now finishes, then the cycle stops.",
                      cycleId: runningCycle(data)?.id ?? null,
                    }
                  : { kind: "plain", text: "Provisioning stopped.", cycleId: lastCycleId },
              );
            },
          })
        }
      >
        <p>
          The unit of work running now (one page of users or groups) finishes so nothing is left half written;
          no further pages or scheduled cycles run.
        </p>
        <p>Press Start later to continue from where provisioning stopped.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmDeletes}
        title="Allow the held deletions?"
        summary={[`Dialpad disables or deletes ${data?.heldChanges.count ?? 0} user(s) and group(s) now.`]}
        confirmLabel="Yes, allow deletes"
        isPending={mutations.allowDeletes.isPending}
        onCancel={() => setConfirmDeletes(false)}
        onConfirm={() =>
          mutations.allowDeletes.mutate(undefined, {
            onSuccess: (result) => {
              setConfirmDeletes(false);
              setNotice({
                kind: "plain",
                cycleId: lastCycleId,
                text:
                  `Executed ${result.executed} held deletion${result.executed === 1 ? "" : "s"}` +
                  (result.failed ? `; ${result.failed} failed (see the provisioning logs).` : "."),
              });
            },
          })
        }
      >
        <p>
          This cannot be undone from here: deleted Dialpad users lose their numbers and call history. If the
          deletions are a mistake, cancel, fix the assignments in Entra ID, then Restart.
        </p>
      </ConfirmDialog>
    </div>
  );
}
