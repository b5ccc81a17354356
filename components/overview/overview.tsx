"use client";

import Link from "next/link";
import { type ReactNode, useId, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { describeProblem } from "@/lib/client/api";
import { useMe } from "@/lib/client/use-me";
import { RefusedAttributes } from "./refused-attributes";
import { RestartDialog } from "./restart-dialog";
import {
  type CountField,
  type StatusCode,
  type StatusDto,
  runningCycle,
  useControlMutations,
  useStatus,
} from "./use-status";

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

const COUNT_LABELS: [CountField, string][] = [
  ["created", "Created"],
  ["updated", "Updated"],
  ["disabled", "Disabled"],
  ["deleted", "Deleted"],
  ["skipped", "Skipped"],
  ["failed", "Failed"],
];

/** The quarantine reasons Graph reports, explained with what the admin should do about each. */
function explainQuarantine(reason: string, error: unknown): { words: string; todo: string } {
  switch (reason) {
    case "TooManyDeletes":
      if (heldBySourceShrink(error))
        return {
          words:
            "Microsoft Entra ID returned far fewer assigned users than the last cycle, so every disable and delete was held.",
          todo: "If those users really left, press Allow deletes. If not, restore the app's assignments, the assigned groups' members or the Graph permissions in Entra ID, then Restart.",
        };
      return {
        words: "More deletions than your threshold were held.",
        todo: "Review the held deletions below. If they are expected, press Allow deletes. If not, fix the assignments or scoping in Entra ID first, then Restart.",
      };
    case "EncounteredQuarantineException":
      return {
        words: "Dialpad refused the credentials (or most requests failed the same way).",
        todo: "Generate a new Dialpad API key, enter it in Provisioning settings, Test Connection, Save, then Restart.",
      };
    case "EncounteredBaseEscrowThreshold":
    case "EncounteredTotalEscrowThreshold":
    case "EncounteredEscrowProportionThreshold":
      return {
        words: "Too many failures: too many users or groups failed to provision in a row.",
        todo: "Open the provisioning logs filtered to Failure, fix the cause shown under Troubleshooting & recommendations, then Restart.",
      };
    case "QuarantinedOnDemand":
      return { words: "An administrator put the job in quarantine.", todo: "Restart when you are ready." };
    case "IngestionInterrupted":
      return {
        words: "Reading the directory from Microsoft Graph was interrupted.",
        todo: "Check the Graph credentials in Provisioning settings, then Restart.",
      };
    default:
      return {
        words: `The provisioning engine reported "${reason}".`,
        todo: "Check the provisioning logs for failures, fix the cause, then Restart.",
      };
  }
}

export function Overview({ connectionId }: { connectionId: string }) {
  const status = useStatus(connectionId);
  const me = useMe();
  const mutations = useControlMutations(connectionId);
  const [restartOpen, setRestartOpen] = useState(false);
  const [confirmStop, setConfirmStop] = useState(false);
  const [confirmDeletes, setConfirmDeletes] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
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
  const canWrite = me.data?.canWrite ?? false;
  const running = Boolean(runningCycle(data));

  // One place decides why a button is off, so the reason shown always matches the disabled state.
  const readerReason =
    me.data && !canWrite ? "Your role can view provisioning but not change it (Reader)." : null;
  const startReason =
    readerReason ??
    (!data
      ? "Loading…"
      : data.code === "NotConfigured"
        ? "Configure the connection in Provisioning settings first."
        : running
          ? "A cycle is running."
          : null);
  const stopReason =
    readerReason ??
    (!data
      ? "Loading…"
      : !running && (data.code === "Paused" || data.code === "NotRun" || data.code === "NotConfigured")
        ? "Provisioning is not running."
        : null);
  const restartReason =
    readerReason ??
    (!data ? "Loading…" : data.code === "NotConfigured" ? "Configure the connection first." : null);
  const reasons = [...new Set([startReason, stopReason, restartReason].filter((r) => r && r !== "Loading…"))];

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
                        ? "A cycle is already running."
                        : "Provisioning started: a cycle is queued and begins in a moment.",
                    ),
                });
              }}
              disabled={Boolean(startReason) || mutations.start.isPending}
              aria-describedby={startReason ? reasonId : undefined}
            >
              {mutations.start.isPending ? "Starting…" : "Start"}
            </Button>
            <Button
              variant="secondary"
              onClick={() => setConfirmStop(true)}
              disabled={Boolean(stopReason) || mutations.stop.isPending}
              aria-describedby={stopReason ? reasonId : undefined}
            >
              Stop
            </Button>
            <Button
              variant="secondary"
              onClick={() => {
                mutations.restart.reset();
                setRestartOpen(true);
              }}
              disabled={Boolean(restartReason)}
              aria-describedby={restartReason ? reasonId : undefined}
            >
              Restart
            </Button>
          </div>
        </div>
        <p id={reasonId} className="mt-2 min-h-5 text-xs text-slate-600 dark:text-slate-400">
          {reasons.join(" ")}
        </p>
        {notice && (
          <Alert tone="info" className="mt-2">
            {notice}
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
              setNotice("Provisioning restarted: a cycle is queued and begins in a moment.");
            },
          })
        }
      />
      <Dialog
        open={confirmStop}
        onClose={() => setConfirmStop(false)}
        title="Stop provisioning?"
        footer={
          <>
            <Button data-autofocus variant="secondary" onClick={() => setConfirmStop(false)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              disabled={mutations.stop.isPending}
              onClick={() =>
                mutations.stop.mutate(undefined, {
                  onSuccess: () => {
                    setConfirmStop(false);
                    setNotice(
                      running
                        ? "Stopping: the page of users being processed now finishes, then the cycle stops."
                        : "Provisioning stopped.",
                    );
                  },
                })
              }
            >
              {mutations.stop.isPending ? "Stopping…" : "Stop provisioning"}
            </Button>
          </>
        }
      >
        <div className="space-y-2 text-sm">
          <p>
            The unit of work running now (one page of users or groups) finishes so nothing is left half
            written; no further pages or scheduled cycles run.
          </p>
          <p>Press Start later to continue from where provisioning stopped.</p>
        </div>
      </Dialog>
      <Dialog
        open={confirmDeletes}
        onClose={() => setConfirmDeletes(false)}
        title="Allow the held deletions?"
        footer={
          <>
            <Button data-autofocus variant="secondary" onClick={() => setConfirmDeletes(false)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              disabled={mutations.allowDeletes.isPending}
              onClick={() =>
                mutations.allowDeletes.mutate(undefined, {
                  onSuccess: (result) => {
                    setConfirmDeletes(false);
                    setNotice(
                      `Executed ${result.executed} held deletion${result.executed === 1 ? "" : "s"}` +
                        (result.failed ? `; ${result.failed} failed (see the provisioning logs).` : "."),
                    );
                  },
                })
              }
            >
              {mutations.allowDeletes.isPending ? "Working…" : "Yes, allow deletes"}
            </Button>
          </>
        }
      >
        <div className="space-y-2 text-sm">
          <p>
            Dialpad disables or deletes {data?.heldChanges.count ?? 0} user(s) and group(s) now. This cannot
            be undone from here: deleted Dialpad users lose their numbers and call history.
          </p>
          <p>If the deletions are a mistake, cancel, fix the assignments in Entra ID, then Restart.</p>
        </div>
      </Dialog>
    </div>
  );
}

function QuarantineBanner({
  quarantine,
  connectionId,
}: {
  quarantine: NonNullable<StatusDto["quarantine"]>;
  connectionId: string;
}) {
  const { words, todo } = explainQuarantine(quarantine.reason, quarantine.error);
  const detail = errorMessage(quarantine.error);
  return (
    <Alert tone="error" title="Provisioning has been quarantined">
      <p>
        <strong>Why:</strong> {words} <span className="font-mono text-xs">({quarantine.reason})</span>
      </p>
      {detail && <p className="mt-1 break-words">{detail}</p>}
      <p className="mt-1">
        <strong>Since:</strong> {formatDate(quarantine.currentBegan)}
        {quarantine.seriesCount > 1 &&
          ` (quarantined ${quarantine.seriesCount} times since ${formatDate(quarantine.seriesBegan)})`}
        {" · "}
        <strong>Next attempt:</strong> {formatDate(quarantine.nextAttempt)}
      </p>
      <p className="mt-1">
        <strong>What to do:</strong> {todo}{" "}
        <Link className="underline" href={`/connections/${connectionId}/logs`}>
          View provisioning logs
        </Link>
      </p>
    </Alert>
  );
}

function HeldDeletions({
  held,
  bySourceShrink,
  disabledReason,
  isPending,
  onAllow,
}: {
  held: StatusDto["heldChanges"];
  bySourceShrink: boolean;
  disabledReason: string | null;
  isPending: boolean;
  onAllow: () => void;
}) {
  const hintId = useId();
  return (
    <Card
      title="Held deletions"
      description={
        <>
          <span data-testid="held-count">{held.count}</span> disable or delete operation
          {held.count === 1 ? " was" : "s were"} held because{" "}
          {bySourceShrink
            ? "Microsoft Entra ID returned far fewer assigned users than the last cycle."
            : "they exceed the accidental deletion threshold."}
        </>
      }
    >
      <ul className="max-h-60 divide-y divide-slate-200 overflow-y-auto text-sm dark:divide-slate-800">
        {held.sample.map((item) => (
          <li key={`${item.objectType}-${item.sourceId}`} className="flex flex-wrap gap-x-3 py-1">
            <span className="font-medium">{item.displayName ?? item.sourceId}</span>
            <span className="text-slate-600 dark:text-slate-400">
              {item.objectType} · {item.action}
            </span>
            <span className="font-mono text-xs text-slate-500 dark:text-slate-400">{item.sourceId}</span>
          </li>
        ))}
      </ul>
      {held.count > held.sample.length && (
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
          Showing the first {held.sample.length} of {held.count}.
        </p>
      )}
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <Button
          variant="danger"
          onClick={onAllow}
          disabled={Boolean(disabledReason) || isPending}
          aria-describedby={hintId}
        >
          Allow deletes
        </Button>
        <p id={hintId} className="text-xs text-slate-600 dark:text-slate-400">
          {disabledReason ??
            "Not expected? Do not allow them: fix the cause (assignments, scoping, or the source directory), then Restart."}
        </p>
      </div>
    </Card>
  );
}

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

function CurrentCycle({ status }: { status: ReturnType<typeof useStatus> }) {
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
            <p data-testid="finished-cycle">
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
                  {data.nextCycleAt ? formatDate(data.nextCycleAt) : "none scheduled"}
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

function LastCycle({ data, isPending }: { data: StatusDto | undefined; isPending: boolean }) {
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
            <Row term="Next cycle">{data?.nextCycleAt ? formatDate(data.nextCycleAt) : "None scheduled"}</Row>
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

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-slate-600 dark:text-slate-400">{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** The quarantine's deletions were held by the source-shrink guard, not by the threshold. */
function heldBySourceShrink(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { sourceShrink?: unknown }).sourceShrink === true
  );
}

/** quarantine.error and cycle.error are free JSON from the engine: show the message when there is one. */
function errorMessage(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === "string") return error;
  if (typeof error === "object") {
    // Cycle errors carry { code, message }; quarantine errors carry { reason, detail }.
    const { message, detail, code } = error as { message?: unknown; detail?: unknown; code?: unknown };
    const text = typeof message === "string" ? message : typeof detail === "string" ? detail : null;
    if (text) return typeof code === "string" ? `${code}: ${text}` : text;
  }
  return JSON.stringify(error);
}

function formatDate(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}

function formatDuration(from: string, to: string): string {
  const seconds = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
