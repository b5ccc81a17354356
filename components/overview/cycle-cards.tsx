"use client";

import type { ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { capitalize, errorMessage, formatDate, formatDuration } from "./format";
import { type CountField, type Status, runningCycle, type useStatus } from "@/lib/client/status";

const COUNT_LABELS: [CountField, string][] = [
  ["created", "Created"],
  ["updated", "Updated"],
  ["disabled", "Disabled"],
  ["deleted", "Deleted"],
  ["skipped", "Skipped"],
  ["failed", "Failed"],
];

/** A finished cycle's outcome as the overview, status API and webhooks name it (lib/cycle/outcome.ts). */
const CYCLE_OUTCOME: Record<string, { label: string; tone: "success" | "warning" | "error" | "neutral" }> = {
  succeeded: { label: "Succeeded", tone: "success" },
  succeededWithFailures: { label: "Succeeded with failures", tone: "warning" },
  failed: { label: "Failed", tone: "error" },
  stopped: { label: "Stopped", tone: "neutral" },
};

function cycleEndWords(cycle: { status: string; counts?: unknown }): string {
  if (cycle.status === "succeeded") return "completed";
  if (cycle.status === "stopped") return "stopped";
  if (cycle.status === "succeededWithFailures") {
    const counts = (cycle.counts ?? {}) as { failed?: number; referenceFailures?: number };
    const failed = (counts.failed ?? 0) + (counts.referenceFailures ?? 0);
    return `completed with ${failed} failure${failed === 1 ? "" : "s"} (see the provisioning logs, status Failure)`;
  }
  return "ended with an error";
}

export function CurrentCycle({ status }: { status: ReturnType<typeof useStatus> }) {
  const data = status.data;
  const cycle = runningCycle(data);
  const last = data?.lastCycle;
  // As Entra's overview does, the bar stays after a cycle: a cycle that succeeded reads 100 % complete.
  const finished = !cycle && last && last.status !== "running" ? last : null;
  return (
    <Card title={cycle ? "Current cycle" : "Cycle status"}>
      <div className="min-h-24 space-y-2 text-sm">
        {cycle && (
          <>
            <p>
              {cycle.type === "initial" ? "Initial cycle" : "Incremental cycle"} started{" "}
              {formatDate(cycle.startedAt)}
              {cycle.stopRequested && " — stopping after the current page"}
            </p>
            <CycleProgressBar
              done={cycle.progress.completedUnits ?? 0}
              total={cycle.progress.totalUnits ?? 0}
              units={cycle.progress.units}
              complete={false}
            />
          </>
        )}
        {finished && (
          <>
            <p data-testid="finished-cycle" data-cycle-id={finished.id}>
              {finished.type === "initial" ? "Initial cycle" : "Incremental cycle"} {cycleEndWords(finished)}{" "}
              {formatDate(finished.endedAt)}.{" "}
              <span data-testid="cycle-outcome">
                <Badge tone={CYCLE_OUTCOME[finished.status]?.tone ?? "neutral"}>
                  {CYCLE_OUTCOME[finished.status]?.label ?? finished.status}
                </Badge>
              </span>
            </p>
            <CycleProgressBar
              done={finished.completedUnits ?? 0}
              total={finished.totalUnits ?? 0}
              units="pages"
              complete={finished.status === "succeeded" || finished.status === "succeededWithFailures"}
            />
          </>
        )}
        {!cycle && (
          <p>
            {status.isPending ? "Loading…" : "No cycle is running."}{" "}
            {data && (
              <>
                Next cycle:{" "}
                <span data-testid="next-cycle">
                  {data.nextCycleAt ? formatDate(data.nextCycleAt) : nextCycleWords(data, { inline: true })}
                </span>
                .
              </>
            )}
          </p>
        )}
        <Button variant="ghost" onClick={() => void status.refetch()} disabled={status.isFetching}>
          {status.isFetching ? "Refreshing…" : "Refresh"}
        </Button>
      </div>
    </Card>
  );
}

function CycleProgressBar({
  done,
  total,
  units,
  complete,
}: {
  done: number;
  total: number;
  units: string;
  complete: boolean;
}) {
  const percent = complete ? 100 : total > 0 ? Math.min(100, Math.round((done / total) * 100)) : null;
  // A finished cycle counts every page done, including pages that ended with failed objects in escrow.
  if (complete) done = total;
  return (
    <>
      <div
        role="progressbar"
        aria-label="Cycle progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={percent === null ? "Counting pages" : `${done} of ${total} ${units} (${percent} %)`}
        className="h-3 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
      >
        <div className="h-full bg-blue-700 transition-[width]" style={{ width: `${percent ?? 0}%` }} />
      </div>
      <p className="text-xs text-slate-600 dark:text-slate-400">
        {percent === null
          ? "Counting the pages to process…"
          : total === 0
            ? `${percent} % complete.`
            : `${percent} % complete: ${done} of ${total} ${units} (pages of users and groups, not single users).`}
      </p>
    </>
  );
}

export function LastCycle({ data, isPending }: { data: Status | undefined; isPending: boolean }) {
  const last = data?.lastCycle;
  return (
    <Card title="Last cycle">
      {!last ? (
        <p className="text-sm">{isPending ? "Loading…" : "No cycle has run yet."}</p>
      ) : (
        <div className="space-y-3 text-sm">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
            <Row term="Type">{last.type === "initial" ? "Initial" : "Incremental"}</Row>
            <Row term="Result">{last.status === "running" ? "Running" : capitalize(last.status)}</Row>
            <Row term="Completed">{last.endedAt ? formatDate(last.endedAt) : "Not yet"}</Row>
            <Row term="Duration">{last.endedAt ? formatDuration(last.startedAt, last.endedAt) : "—"}</Row>
            <Row term="Next cycle">
              {data?.nextCycleAt ? formatDate(data.nextCycleAt) : nextCycleWords(data)}
            </Row>
            {last.sourceUsers && last.sourceUsers.read !== null && (
              <Row term="Users read from Entra ID">
                <span data-testid="source-users">
                  {last.sourceUsers.read.toLocaleString()}
                  {last.sourceUsers.before !== null &&
                    ` (the last cycle had ${last.sourceUsers.before.toLocaleString()})`}
                  {last.sourceUsers.held && " — far fewer: disables and deletes held"}
                </span>
              </Row>
            )}
            {data?.lastSuccessfulCycle && data.lastSuccessfulCycle.id !== last.id && (
              <Row term="Last successful">{formatDate(data.lastSuccessfulCycle.endedAt)}</Row>
            )}
          </dl>
          {last.countsSoFar && (
            <p className="text-xs text-slate-600 dark:text-slate-400" data-testid="counts-so-far">
              So far, from the provisioning log; the cycle's own counts replace them when it ends.
            </p>
          )}
          <dl className="grid grid-cols-3 gap-2 sm:grid-cols-6" aria-label="Last cycle counts">
            {COUNT_LABELS.map(([field, label]) => (
              <div
                key={field}
                className="rounded-md border border-slate-200 p-2 text-center dark:border-slate-800"
              >
                <dt className="text-xs text-slate-600 dark:text-slate-400">{label}</dt>
                <dd className="text-lg font-semibold" data-testid={`count-${field}`}>
                  {last.counts?.[field] ?? 0}
                </dd>
              </div>
            ))}
          </dl>
          {(last.counts?.skipped ?? 0) > 0 && (
            <p className="text-xs text-slate-600 dark:text-slate-400" data-testid="skipped-explained">
              Skipped counts every user and group the cycle read and left as it was. As in Entra, the
              provisioning logs record a skip only when it says something about the object (out of scope while
              assigned or in Dialpad, already matching on an initial cycle); users neither assigned to the app
              nor in Dialpad are counted here but not logged, so the logs list fewer.
            </p>
          )}
          {errorMessage(last.error) && (
            <Alert tone="error" title="The cycle failed">
              {errorMessage(last.error)}
            </Alert>
          )}
        </div>
      )}
    </Card>
  );
}

/** When no cycle is queued: continuous mode runs one as soon as Entra ID changes. */
function nextCycleWords(data: Status | undefined, options: { inline?: boolean } = {}): string {
  const continuous = data?.schedule.mode === "continuous" && data.provisioningEnabled && !data.paused;
  const words = continuous ? "as soon as Entra ID changes" : "none scheduled";
  return options.inline ? words : words[0]!.toUpperCase() + words.slice(1);
}

export function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-slate-600 dark:text-slate-400">{term}</dt>
      <dd>{children}</dd>
    </>
  );
}
