"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { describeProblem } from "@/lib/client/api";
import { type Connection, type SelfTestStatus, useConnectionApi } from "@/lib/client/connections";
import { queryKeys } from "@/lib/client/query-keys";

const STATUS_BADGE: Record<
  SelfTestStatus,
  { tone: "success" | "warning" | "error" | "neutral"; label: string }
> = {
  pass: { tone: "success", label: "Pass" },
  warn: { tone: "warning", label: "Warning" },
  fail: { tone: "error", label: "Fail" },
  skipped: { tone: "neutral", label: "Skipped" },
};

/**
 * The target self-test card: checks the saved SCIM endpoint for what the engine relies on and lists,
 * per check, what was observed and what the engine does about it. It tests the saved settings only,
 * because with write checks it creates (and deletes) a user there.
 */
export function TargetSelfTest({ connection, canWrite }: { connection: Connection; canWrite: boolean }) {
  const connectionApi = useConnectionApi(connection.id);
  const queryClient = useQueryClient();
  const [withWrites, setWithWrites] = useState(true);
  const ids = { consent: useId(), reason: useId(), checks: useId() };
  const configured = Boolean(connection.tenantUrl) && connection.secretToken.isSet;
  const disabledReason = !canWrite
    ? "Only a Provisioning.Admin can run the self-test, because it writes to the target."
    : !configured
      ? "Save the tenant URL and secret token first; the self-test uses the saved settings."
      : undefined;

  const run = useMutation({
    mutationFn: () => connectionApi.targetSelfTest({ createTemporaryUser: withWrites }),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.audit(connection.id) });
    },
  });
  const report = run.data;

  return (
    <Card
      title="Target self-test"
      description="Checks the saved tenant URL the way the provisioning engine uses it: discovery, filtering by each matching attribute, PATCH casing and Booleans, pagination, error bodies, 404 and 409, and rate-limit headers."
    >
      <div className="space-y-4">
        <div className="flex items-start gap-2">
          <input
            id={ids.consent}
            type="checkbox"
            className="mt-1"
            checked={withWrites}
            disabled={!canWrite || run.isPending}
            onChange={(event) => setWithWrites(event.target.checked)}
          />
          <label htmlFor={ids.consent} className="text-sm">
            Include write checks: creates and deletes one temporary user (selftest-…@selftest.invalid) in
            Dialpad. While it exists, Dialpad may count it as a licensed user; it is deleted within seconds,
            even when checks fail.
          </label>
        </div>
        <div className="flex flex-wrap items-center gap-3">
          <Button
            variant="secondary"
            onClick={() => run.mutate()}
            disabled={Boolean(disabledReason) || run.isPending}
            aria-describedby={disabledReason ? ids.reason : undefined}
          >
            {run.isPending ? "Running self-test…" : "Run self-test"}
          </Button>
          {disabledReason && (
            <p id={ids.reason} className="text-sm text-slate-700 dark:text-slate-300">
              {disabledReason}
            </p>
          )}
        </div>
        {run.isPending && (
          <p role="status" className="text-sm">
            Running the self-test against {connection.tenantUrl}
            {withWrites ? " (with one temporary user)" : " (read-only)"}. This takes a few seconds.
          </p>
        )}
        {run.error && (
          <Alert tone="error" title="The self-test could not run">
            {describeProblem(run.error)}
          </Alert>
        )}
        {report && !run.isPending && (
          <>
            <Alert
              tone={report.summary.fail > 0 ? "error" : report.summary.warn > 0 ? "warning" : "success"}
              title={`Self-test finished: ${report.summary.pass} passed, ${report.summary.warn} ${
                report.summary.warn === 1 ? "warning" : "warnings"
              }, ${report.summary.fail} failed, ${report.summary.skipped} skipped`}
            >
              <p>
                {report.target} · {report.checks.length} checks · {report.requestCount} requests in{" "}
                {(report.durationMs / 1000).toFixed(1)} s
                {report.temporaryUser &&
                  (report.temporaryUser.created
                    ? ` · temporary user ${report.temporaryUser.deleted ? "created and deleted" : "NOT deleted"}`
                    : " · no temporary user was created")}
              </p>
            </Alert>
            {report.temporaryUser?.created && !report.temporaryUser.deleted && (
              <Alert tone="error" title="A temporary user may be left in Dialpad">
                Delete {report.temporaryUser.userName}
                {report.temporaryUser.id ? ` (id ${report.temporaryUser.id})` : ""} in Dialpad; the clean-up
                check below says why it failed.
              </Alert>
            )}
            <h3 id={ids.checks} className="text-sm font-semibold">
              Checks
            </h3>
            <ol aria-labelledby={ids.checks} className="divide-y divide-slate-200 dark:divide-slate-800">
              {report.checks.map((check) => (
                <li key={check.id} className="py-3" data-testid={`self-test-${check.id}`}>
                  <div className="flex flex-wrap items-center gap-2">
                    <Badge tone={STATUS_BADGE[check.status].tone}>{STATUS_BADGE[check.status].label}</Badge>
                    <span className="text-sm font-medium">{check.title}</span>
                    <span className="text-xs text-slate-600 dark:text-slate-400">{check.durationMs} ms</span>
                  </div>
                  <dl className="mt-2 grid gap-1 text-sm md:grid-cols-[10rem_1fr]">
                    <dt className="text-slate-600 dark:text-slate-400">Observed</dt>
                    <dd className="break-words">{check.detail}</dd>
                    <dt className="text-slate-600 dark:text-slate-400">Engine</dt>
                    <dd className="break-words">{check.engineAction}</dd>
                  </dl>
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
    </Card>
  );
}
