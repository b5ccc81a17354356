import { Counter, Gauge, type Registry } from "prom-client";
import type { PrismaClient } from "../db/generated/client";
import { precountedHistogram } from "./histogram";

/** Propagation buckets in seconds: continuous mode aims at well under a minute. */
export const PROPAGATION_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600];

/** How far back the propagation histogram looks: a day of changes, so the scrape stays cheap. */
const PROPAGATION_WINDOW = "24 hours";

/**
 * Continuous mode's metrics: the polls and the Graph requests they sent (the idle cost), when each
 * connection last looked, and how long changes took from the poll that saw them to their write in
 * Dialpad (each provisioning log entry that changed something, in a cycle a poll queued).
 */
export async function addContinuousMetrics(db: PrismaClient, registry: Registry): Promise<void> {
  const [polls, propagation] = await Promise.all([
    db.$queryRaw<{ id: string; pollCount: number; pollGraphRequests: number; ageSeconds: number | null }[]>`
      SELECT id, "pollCount", "pollGraphRequests",
        extract(epoch FROM now() - "lastPollAt")::float8 AS "ageSeconds"
      FROM "Connection" WHERE "scheduleMode" = 'continuous'`,
    db.$queryRaw<{ connectionId: string; buckets: number[]; count: number; sum: number }[]>`
      SELECT "connectionId", array_agg(n ORDER BY le) AS buckets, max(total) AS count, max(seconds) AS sum
      FROM (
        SELECT d."connectionId", b.le, count(*) FILTER (WHERE d.seconds <= b.le)::int AS n,
          count(*)::int AS total, coalesce(sum(d.seconds), 0)::float8 AS seconds
        FROM (SELECT y."connectionId", extract(epoch FROM l."activityDateTime" - y."changeSeenAt")::float8 AS seconds
              FROM "Cycle" y JOIN "ProvisioningLog" l ON l."cycleId" = y.id
              WHERE y."changeSeenAt" > now() - ${PROPAGATION_WINDOW}::interval
                AND l.action IN ('Create', 'Update', 'Disable', 'Delete')
                AND l.status IN ('Success', 'Warning')) AS d
        CROSS JOIN unnest(${PROPAGATION_BUCKETS}::float8[]) AS b(le)
        GROUP BY d."connectionId", b.le
      ) AS per_bucket
      GROUP BY "connectionId"`,
  ]);
  const labels = ["connection_id"];
  const pollsTotal = new Counter({
    name: "provisioning_continuous_polls_total",
    help: "Polls of Microsoft Graph's change feeds (continuous mode).",
    labelNames: labels,
    registers: [registry],
  });
  const graphRequests = new Counter({
    name: "provisioning_continuous_graph_requests_total",
    help: "Graph requests the polls sent, retries included (cycles' own Graph requests are not counted here).",
    labelNames: labels,
    registers: [registry],
  });
  const lastPollAge = new Gauge({
    name: "provisioning_continuous_last_poll_age_seconds",
    help: "Seconds since the connection's last poll; grows when no worker polls it.",
    labelNames: labels,
    registers: [registry],
  });
  for (const row of polls) {
    const series = { connection_id: row.id };
    pollsTotal.inc(series, row.pollCount);
    graphRequests.inc(series, row.pollGraphRequests);
    if (row.ageSeconds !== null) lastPollAge.set(series, row.ageSeconds);
  }
  registry.registerMetric(
    precountedHistogram(
      "provisioning_change_propagation_seconds",
      `From the poll that saw a change in Entra ID to its write in Dialpad, per object, over the last ${PROPAGATION_WINDOW}.`,
      PROPAGATION_BUCKETS,
      propagation.map((row) => ({
        labels: { connection_id: row.connectionId },
        buckets: row.buckets,
        count: row.count,
        sum: row.sum,
      })),
    ),
  );
}
