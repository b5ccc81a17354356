import type { PrismaClient } from "../db/generated/client";
import type { ReconcileCounts } from "../contracts/reconcile";
import type { Mailer } from "../notify/mailer";
import { mailerFromEnvironment, sendNotification, type AppearedFinding } from "../notify/notifications";

export type { AppearedFinding };

/**
 * The kinds of finding a report has more of than the report before it (every kind it has, when it is
 * the first). Drifted users count once each, whatever number of attributes drifted, as on the console.
 */
export function findingsAppeared(
  previous: ReconcileCounts | null,
  current: ReconcileCounts,
): AppearedFinding[] {
  const byKind = (counts: ReconcileCounts | null) => {
    const kinds = new Map<string, number>();
    if (!counts) return kinds;
    for (const [category, count] of Object.entries(counts.users))
      kinds.set(`User:${category}`, category === "drifted" ? counts.driftedUsers : count);
    for (const [category, count] of Object.entries(counts.groups)) kinds.set(`Group:${category}`, count);
    return kinds;
  };
  const before = byKind(previous);
  const appeared: AppearedFinding[] = [];
  for (const [kind, now] of byKind(current)) {
    const was = before.get(kind) ?? 0;
    if (now <= was) continue;
    const [objectType, category] = kind.split(":") as ["User" | "Group", string];
    appeared.push({ objectType, category, before: was, now });
  }
  return appeared;
}

/**
 * E-mails the connection's notification address when a report found orphans or drift the previous
 * report had not, if the admin asked for it (reconcileAlertEmail). The same findings again send
 * nothing, so a daily report does not repeat yesterday's news. Best effort, after the report is
 * stored: a mail server that is down loses the e-mail, not the report.
 */
export async function alertReconcileFindings(
  db: PrismaClient,
  run: { runId: string; connectionId: string; counts: ReconcileCounts; finishedAt: Date },
  options: {
    mailer?: Mailer | null;
    log?: { warn(fields: Record<string, unknown>, message: string): void };
  } = {},
): Promise<boolean> {
  const connection = await db.connection.findUnique({
    where: { id: run.connectionId },
    select: { name: true, notificationEmail: true, reconcileAlertEmail: true },
  });
  if (!connection?.reconcileAlertEmail || !connection.notificationEmail) return false;
  const previous = await db.reconcileRun.findFirst({
    where: {
      connectionId: run.connectionId,
      status: "succeeded",
      id: { not: run.runId },
      finishedAt: { lt: run.finishedAt },
    },
    orderBy: { finishedAt: "desc" },
    select: { counts: true },
  });
  const appeared = findingsAppeared((previous?.counts as ReconcileCounts | undefined) ?? null, run.counts);
  if (appeared.length === 0) return false;
  const mailer = options.mailer === undefined ? mailerFromEnvironment() : options.mailer;
  return sendNotification(
    mailer,
    connection.notificationEmail,
    "reconcile-findings",
    {
      connectionName: connection.name,
      connectionId: run.connectionId,
      reconcile: { runId: run.runId, appeared },
    },
    options.log,
  );
}
