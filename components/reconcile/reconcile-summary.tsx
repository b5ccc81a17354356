"use client";

import Link from "next/link";
import { Card } from "@/components/ui/card";
import { countOf, useReconcileRun } from "@/lib/client/reconcile";

/** The Overview's line about the latest reconcile report: orphans and drift, with a link to the tab. */
export function ReconcileSummary({ connectionId }: { connectionId: string }) {
  const report = useReconcileRun(connectionId);
  const run = report.data?.run;
  const href = `/connections/${connectionId}/reconcile`;
  return (
    <Card title="Reconcile">
      {!run || run.status !== "succeeded" ? (
        <p className="text-sm">
          {run ? `The latest reconcile report is ${run.status}.` : "No reconcile report yet."}{" "}
          <Link className="text-blue-700 underline dark:text-blue-400" href={href}>
            Open Reconcile
          </Link>
        </p>
      ) : (
        <p className="text-sm" data-testid="reconcile-summary">
          <span className="font-semibold">{countOf(run, "orphan") + countOf(run, "orphan", true)}</span>{" "}
          orphans, <span className="font-semibold">{countOf(run, "drifted")}</span> drifted users and{" "}
          <span className="font-semibold">{countOf(run, "drifted", true)}</span> drifted groups in Dialpad (
          {new Date(run.finishedAt ?? run.createdAt).toLocaleString()}).{" "}
          <Link className="text-blue-700 underline dark:text-blue-400" href={href}>
            See the reconcile report
          </Link>
        </p>
      )}
    </Card>
  );
}
