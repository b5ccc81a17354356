"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { describeProblem } from "@/lib/client/api";
import { useConnection } from "@/lib/client/connections";
import {
  countOf,
  type FindingFilters,
  type ReconcileActionRequest,
  type ReconcileActionResult,
  type ReconcileCategory,
  type ReconcileFinding,
  type ReconcileRun,
  useReconcileMutations,
  useReconcileRun,
} from "@/lib/client/reconcile";
import { ReconcileSettingToggle } from "./setting-toggle";
import { FindingTable } from "./finding-table";

const READER_REASON = "Your role can view the reconcile report but not run it or act on it (Reader).";

const CARDS: { label: string; category: ReconcileCategory; groups?: boolean; meaning: string }[] = [
  { label: "Orphan users", category: "orphan", meaning: "In Dialpad, linked to no Entra user" },
  { label: "Drifted users", category: "drifted", meaning: "Attributes differ from the mappings" },
  { label: "Missing", category: "missing", meaning: "Linked, but gone from Dialpad" },
  { label: "Suspended in Dialpad", category: "suspendedInDialpad", meaning: "Active in Entra" },
  { label: "Active in Dialpad", category: "activeInDialpad", meaning: "Inactive or gone in Entra" },
  { label: "Orphan groups", category: "orphan", groups: true, meaning: "Dialpad groups nothing links to" },
  {
    label: "Drifted groups",
    category: "drifted",
    groups: true,
    meaning: "Members or attributes differ from Entra",
  },
];

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** The Reconcile tab: the latest report's counts, its findings, Run, and the actions with their previews. */
export function ReconcilePanel({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const report = useReconcileRun(connectionId);
  const connection = useConnection(connectionId);
  const { run: start, act } = useReconcileMutations(connectionId);
  const [filters, setFilters] = useState<FindingFilters>({});
  const [pending, setPending] = useState<{
    request: ReconcileActionRequest;
    preview: ReconcileActionResult;
  } | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [outcome, setOutcome] = useState<ReconcileActionResult | null>(null);
  const run = report.data?.run ?? null;
  const busy = run?.status === "queued" || run?.status === "running";
  const finished = run?.status === "succeeded" ? run : null;

  const preview = async (request: Omit<ReconcileActionRequest, "dryRun">) => {
    setOutcome(null);
    setConfirmed(false);
    const result = await act.mutateAsync({ ...request, dryRun: true });
    setPending({ request: { ...request, dryRun: false }, preview: result });
  };
  const apply = async () => {
    if (!pending) return;
    const result = await act.mutateAsync({ ...pending.request, ...(confirmed ? { confirm: true } : {}) });
    setPending(null);
    setOutcome(result);
  };
  const adopt = (finding: ReconcileFinding) =>
    void preview({ action: "adoptOrphan", findingIds: [finding.id] }).catch(() => undefined);

  return (
    <div className="space-y-6">
      <Card
        title="Reconcile"
        description="Compares everything in Dialpad with what Entra ID manages: accounts nobody manages (orphans), attributes changed in Dialpad (drift), linked users gone from Dialpad, and suspensions Entra does not know about."
      >
        <div className="flex flex-wrap items-center gap-3">
          <Button
            onClick={() => start.mutate()}
            disabled={!canWrite || start.isPending || busy}
            aria-describedby={canWrite ? undefined : "reconcile-readonly"}
          >
            {busy ? "Reconciling…" : "Run reconcile"}
          </Button>
          {!canWrite && (
            <p id="reconcile-readonly" className="text-sm text-slate-600 dark:text-slate-400">
              {READER_REASON}
            </p>
          )}
        </div>
        {start.error && (
          <Alert tone="error" className="mt-3" title="The report could not start">
            {describeProblem(start.error)}
          </Alert>
        )}
        {report.isPending && (
          <p className="mt-3 text-sm" role="status">
            Loading…
          </p>
        )}
        {report.error && (
          <Alert tone="error" className="mt-3" title="Could not load the report">
            {describeProblem(report.error)}
          </Alert>
        )}
        {report.data && !run && <p className="mt-3 text-sm">No reconcile report yet.</p>}
        {run && <RunState run={run} />}
        <div className="mt-4 space-y-3">
          <ReconcileSettingToggle
            connectionId={connectionId}
            canWrite={canWrite}
            setting="reconcileAfterFullCycle"
            label="Run a reconcile report after each full cycle"
            hint="After every initial cycle that succeeds (the first one, and each one after Restart). Listing Dialpad costs about one request per 100 users from the connection's request budget."
          />
          <ReconcileSettingToggle
            connectionId={connectionId}
            canWrite={canWrite}
            setting="reconcileAlertEmail"
            label="E-mail the notification address when a report finds new orphans or drift"
            hint={
              connection.data?.notificationEmail
                ? `Sent to ${connection.data.notificationEmail} when a report finds more orphans, drifted, missing or mismatched accounts than the report before it.`
                : "Set a notification e-mail on the Settings tab first; until then nothing is sent."
            }
          />
        </div>
      </Card>

      {finished && (
        <>
          <ul className="grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-6" aria-label="Reconcile counts">
            {CARDS.map((card) => (
              <li key={card.label}>
                <button
                  type="button"
                  onClick={() =>
                    setFilters({ category: card.category, objectType: card.groups ? "Group" : "User" })
                  }
                  className="w-full rounded-lg border border-slate-200 bg-white p-4 text-left shadow-sm hover:border-blue-600 dark:border-slate-800 dark:bg-slate-900"
                >
                  <span className="block text-sm text-slate-700 dark:text-slate-300">{card.label}</span>
                  <span className="block text-2xl font-semibold" data-testid={`count-${card.label}`}>
                    {countOf(finished, card.category, card.groups)}
                  </span>
                  <span className="block text-xs text-slate-600 dark:text-slate-400">{card.meaning}</span>
                </button>
              </li>
            ))}
          </ul>

          <Card
            title="Actions"
            description="Each action shows exactly what it will send to Dialpad before anything is sent; it is recorded in the audit log and the provisioning logs."
          >
            <div className="flex flex-wrap gap-3">
              <Button
                variant="danger"
                disabled={!canWrite || act.isPending || countOf(finished, "orphan") === 0}
                aria-describedby={canWrite ? undefined : "reconcile-readonly"}
                onClick={() => void preview({ action: "suspendOrphans" }).catch(() => undefined)}
              >
                Suspend orphans…
              </Button>
              <Button
                variant="secondary"
                disabled={
                  !canWrite ||
                  act.isPending ||
                  countOf(finished, "drifted") +
                    countOf(finished, "drifted", true) +
                    countOf(finished, "suspendedInDialpad") ===
                    0
                }
                aria-describedby={canWrite ? undefined : "reconcile-readonly"}
                onClick={() => void preview({ action: "reapplyDrift" }).catch(() => undefined)}
              >
                Re-apply desired values…
              </Button>
              <Button
                variant="secondary"
                disabled={
                  !canWrite ||
                  act.isPending ||
                  countOf(finished, "missing") + countOf(finished, "missing", true) === 0
                }
                aria-describedby={canWrite ? undefined : "reconcile-readonly"}
                onClick={() => void preview({ action: "recreateMissing" }).catch(() => undefined)}
              >
                Recreate missing…
              </Button>
            </div>
            {act.error && (
              <Alert tone="error" className="mt-3" title="The action failed">
                {describeProblem(act.error)}
              </Alert>
            )}
            {outcome?.applied && (
              <Alert tone={outcome.applied.failed ? "warning" : "success"} className="mt-3" title="Done">
                {outcome.summary}: {outcome.applied.succeeded} succeeded, {outcome.applied.failed} failed
                {outcome.applied.skipped
                  ? `, ${outcome.applied.skipped} skipped (linked since the report)`
                  : ""}
                .
                {outcome.applied.failures.length > 0 && (
                  <ul className="mt-1 list-disc pl-5">
                    {outcome.applied.failures.slice(0, 10).map((failure) => (
                      <li key={failure}>{failure}</li>
                    ))}
                  </ul>
                )}
              </Alert>
            )}
          </Card>

          <FindingTable
            connectionId={connectionId}
            runId={finished.id}
            filters={filters}
            onFilters={setFilters}
            onAdopt={adopt}
            canWrite={canWrite}
          />
        </>
      )}

      <ConfirmDialog
        open={pending !== null}
        onCancel={() => setPending(null)}
        title={pending?.preview.summary ?? ""}
        size="lg"
        confirmLabel="Apply"
        isPending={act.isPending}
        confirmDisabled={
          pending?.preview.planned.length === 0 ||
          (pending?.preview.threshold?.needsConfirmation === true && !confirmed)
        }
        onConfirm={() => void apply().catch(() => undefined)}
      >
        {pending && (
          <ActionPreview preview={pending.preview} confirmed={confirmed} onConfirmed={setConfirmed} />
        )}
      </ConfirmDialog>
    </div>
  );
}

function RunState({ run }: { run: ReconcileRun }) {
  const tone = run.status === "succeeded" ? "success" : run.status === "failed" ? "error" : "info";
  return (
    <div className="mt-3 space-y-1 text-sm" role="status">
      <p>
        <Badge tone={tone}>{run.status}</Badge> Requested by {run.requestedBy} at {when(run.createdAt)}
        {run.finishedAt ? `, finished ${when(run.finishedAt)}` : ""}
      </p>
      {run.status === "succeeded" && (
        <p className="text-slate-700 dark:text-slate-300">
          Read {run.read.dialpadUsers} Dialpad users, {run.read.dialpadGroups} groups and{" "}
          {run.read.entraUsers} Entra users with {run.read.dialpadRequests} Dialpad requests.
        </p>
      )}
      {run.error && <p className="text-red-800 dark:text-red-300">{run.error}</p>}
    </div>
  );
}

function ActionPreview({
  preview,
  confirmed,
  onConfirmed,
}: {
  preview: ReconcileActionResult;
  confirmed: boolean;
  onConfirmed: (value: boolean) => void;
}) {
  if (preview.planned.length === 0)
    return <p className="text-sm">Nothing to do: no finding fits this action.</p>;
  return (
    <div className="space-y-3 text-sm">
      <p>This sends exactly these changes:</p>
      <ul className="max-h-64 list-disc space-y-1 overflow-y-auto pl-5" data-testid="action-preview">
        {preview.planned.map((change) => (
          <li key={change.findingId}>
            <span className="font-medium">{change.targetName ?? change.targetId}</span>:{" "}
            {change.changes
              .map((c) => `${c.attribute} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
              .join("; ")}
          </li>
        ))}
      </ul>
      {preview.threshold?.needsConfirmation && (
        <label className="flex items-start gap-2">
          <input type="checkbox" checked={confirmed} onChange={(e) => onConfirmed(e.target.checked)} />
          <span>
            {preview.threshold.limit === 0
              ? "This connection requires approval for deletions: I approve these suspensions."
              : `This is more than the deletion threshold (${preview.threshold.limit}): I confirm these suspensions.`}
          </span>
        </label>
      )}
    </div>
  );
}
