import { Counter, Gauge, Registry } from "prom-client";
import type { PrismaClient } from "../db/generated/client";
import { addContinuousMetrics } from "./continuous";
import { precountedHistogram } from "./histogram";

/**
 * Prometheus metrics of the whole deployment, computed from PostgreSQL at scrape time. The web process
 * serves them, but the work happens in worker processes on other hosts: everything here is read from
 * the tables they write (jobs, cycles, request budgets, SCIM request counts, escrows, quarantine,
 * worker heartbeats), so one scrape of one process sees all of them. A fresh registry per scrape keeps
 * series of deleted connections from lingering.
 */

/** Cycle duration buckets in seconds: from a quiet incremental cycle to a large initial one. */
export const CYCLE_DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200, 14400, 43200];

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export async function collectMetrics(db: PrismaClient): Promise<string> {
  const registry = new Registry();
  const [jobs, oldestQueued, cycles, running, scim, budgets, connections, workers, reconciles] =
    await Promise.all([
      db.$queryRaw<{ kind: string; status: string; count: number }[]>`
      SELECT kind, status, count(*)::int AS count FROM "Job" GROUP BY kind, status`,
      db.$queryRaw<{ kind: string; ageSeconds: number }[]>`
      SELECT kind, extract(epoch FROM now() - min("runAt"))::float8 AS "ageSeconds"
      FROM "Job" WHERE status = 'queued' AND "runAt" <= now() GROUP BY kind`,
      db.$queryRaw<{ connectionId: string; status: string; buckets: number[]; count: number; sum: number }[]>`
      SELECT "connectionId", status, array_agg(n ORDER BY le) AS buckets, max(total) AS count, max(seconds) AS sum
      FROM (
        SELECT d."connectionId", d.status, b.le, count(*) FILTER (WHERE d.seconds <= b.le)::int AS n,
          count(*)::int AS total, coalesce(sum(d.seconds), 0)::float8 AS seconds
        FROM (SELECT "connectionId", status, extract(epoch FROM "endedAt" - "startedAt")::float8 AS seconds
              FROM "Cycle" WHERE "endedAt" IS NOT NULL) AS d
        CROSS JOIN unnest(${CYCLE_DURATION_BUCKETS}::float8[]) AS b(le)
        GROUP BY d."connectionId", d.status, b.le
      ) AS per_bucket
      GROUP BY "connectionId", status`,
      db.$queryRaw<
        {
          connectionId: string;
          completed: number;
          failed: number;
          cancelled: number;
          total: number;
          ageSeconds: number;
        }[]
      >`
      SELECT "connectionId", "completedUnits" AS completed, "failedUnits" AS failed, "cancelledUnits" AS cancelled,
        "totalUnits" AS total, extract(epoch FROM now() - "startedAt")::float8 AS "ageSeconds"
      FROM "Cycle" WHERE status = 'running'`,
      db.$queryRaw<{ connectionId: string; statusCode: string; count: bigint; durationMsTotal: bigint }[]>`
      SELECT "connectionId", "statusCode", count, "durationMsTotal" FROM "ScimRequestCount"`,
      db.$queryRaw<
        {
          connectionId: string;
          ceilingPerSecond: number;
          ratePerSecond: number;
          backlogSeconds: number;
          pausedSeconds: number;
          grantedTotal: bigint;
          throttledTotal: bigint;
        }[]
      >`
      SELECT "connectionId", "ceilingPerSecond", "ratePerSecond",
        greatest(extract(epoch FROM "nextSlotAt" - clock_timestamp()), 0)::float8 AS "backlogSeconds",
        greatest(extract(epoch FROM "pausedUntil" - clock_timestamp()), 0)::float8 AS "pausedSeconds",
        "grantedTotal", "throttledTotal"
      FROM "RequestBudget"`,
      db.$queryRaw<
        {
          id: string;
          name: string;
          paused: boolean;
          provisioningEnabled: boolean;
          quarantined: boolean;
          escrows: number;
        }[]
      >`
      SELECT c.id, c.name, c.paused, c."provisioningEnabled", c."quarantineReason" IS NOT NULL AS quarantined,
        (SELECT count(*)::int FROM "Escrow" e WHERE e."connectionId" = c.id) AS escrows
      FROM "Connection" c`,
      db.$queryRaw<{ live: number; newestAgeSeconds: number | null }[]>`
      SELECT count(*) FILTER (WHERE "stoppedAt" IS NULL AND "lastSeenAt" > now() - interval '2 minutes')::int AS live,
        extract(epoch FROM now() - max("lastSeenAt") FILTER (WHERE "stoppedAt" IS NULL))::float8 AS "newestAgeSeconds"
      FROM "Worker"`,
      db.$queryRaw<{ connectionId: string; counts: unknown; finishedSeconds: number }[]>`
      SELECT DISTINCT ON ("connectionId") "connectionId", counts,
        extract(epoch FROM "finishedAt")::float8 AS "finishedSeconds"
      FROM "ReconcileRun" WHERE status = 'succeeded' AND "finishedAt" IS NOT NULL
      ORDER BY "connectionId", "finishedAt" DESC`,
    ]);

  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });

  const jobsGauge = gauge("provisioning_jobs", "Jobs in the store by kind and status.", ["kind", "status"]);
  for (const row of jobs) jobsGauge.set({ kind: row.kind, status: row.status }, row.count);
  const oldestGauge = gauge(
    "provisioning_jobs_oldest_ready_age_seconds",
    "Age of the oldest job that is due but not claimed; grows when workers are missing or saturated.",
    ["kind"],
  );
  for (const row of oldestQueued) oldestGauge.set({ kind: row.kind }, Math.max(0, row.ageSeconds));

  registry.registerMetric(
    precountedHistogram(
      "provisioning_cycle_duration_seconds",
      "Duration of ended provisioning cycles by final status.",
      CYCLE_DURATION_BUCKETS,
      cycles.map((row) => ({
        labels: { connection_id: row.connectionId, status: row.status },
        buckets: row.buckets,
        count: row.count,
        sum: row.sum,
      })),
    ),
  );
  await addContinuousMetrics(db, registry);
  const unitsGauge = gauge("provisioning_cycle_units", "Units of the running cycle by state.", [
    "connection_id",
    "state",
  ]);
  const runningAge = gauge("provisioning_cycle_running_seconds", "How long the running cycle has run.", [
    "connection_id",
  ]);
  for (const row of running) {
    const labels = { connection_id: row.connectionId };
    unitsGauge.set({ ...labels, state: "completed" }, row.completed);
    unitsGauge.set({ ...labels, state: "failed" }, row.failed);
    unitsGauge.set({ ...labels, state: "cancelled" }, row.cancelled);
    unitsGauge.set({ ...labels, state: "total" }, row.total);
    runningAge.set(labels, row.ageSeconds);
  }

  const scimRequests = counter(
    "provisioning_scim_requests_total",
    'SCIM requests to Dialpad by HTTP status code ("none": no answer).',
    ["connection_id", "status_code"],
  );
  const scimSeconds = counter(
    "provisioning_scim_request_duration_seconds_total",
    "Time spent in SCIM requests to Dialpad.",
    ["connection_id", "status_code"],
  );
  const throttled = counter("provisioning_scim_throttled_total", "SCIM requests answered 429 by Dialpad.", [
    "connection_id",
  ]);
  for (const row of scim) {
    const labels = { connection_id: row.connectionId, status_code: row.statusCode };
    scimRequests.inc(labels, Number(row.count));
    scimSeconds.inc(labels, Number(row.durationMsTotal) / 1000);
    if (row.statusCode === "429") throttled.inc({ connection_id: row.connectionId }, Number(row.count));
  }

  const budgetLabels = ["connection_id"];
  const ceiling = gauge(
    "provisioning_request_budget_ceiling_per_second",
    "Configured request budget to Dialpad.",
    budgetLabels,
  );
  const rate = gauge(
    "provisioning_request_budget_rate_per_second",
    "Current request rate after 429 adaptation (equals the ceiling when Dialpad is not throttling).",
    budgetLabels,
  );
  const backlog = gauge(
    "provisioning_request_budget_backlog_seconds",
    "How far ahead the budget is booked; above 0 means workers are using all of it.",
    budgetLabels,
  );
  const paused = gauge(
    "provisioning_request_budget_paused_seconds",
    "Remaining Retry-After pause imposed by Dialpad.",
    budgetLabels,
  );
  const granted = counter(
    "provisioning_request_budget_granted_total",
    "Request slots handed out to workers.",
    budgetLabels,
  );
  for (const row of budgets) {
    const labels = { connection_id: row.connectionId };
    ceiling.set(labels, row.ceilingPerSecond);
    rate.set(labels, row.ratePerSecond);
    backlog.set(labels, row.backlogSeconds);
    paused.set(labels, row.pausedSeconds);
    granted.inc(labels, Number(row.grantedTotal));
  }

  const info = gauge("provisioning_connection_info", "Connection names, for joins on connection_id.", [
    "connection_id",
    "connection_name",
  ]);
  const escrows = gauge("provisioning_escrow_objects", "Objects in escrow awaiting retry.", [
    "connection_id",
  ]);
  const quarantined = gauge(
    "provisioning_connection_quarantined",
    "1 while the connection is in quarantine.",
    ["connection_id"],
  );
  const pausedConnections = gauge("provisioning_connection_paused", "1 while provisioning is stopped.", [
    "connection_id",
  ]);
  const enabled = gauge("provisioning_connection_enabled", "1 while provisioning status is On.", [
    "connection_id",
  ]);
  for (const row of connections) {
    const labels = { connection_id: row.id };
    info.set({ ...labels, connection_name: row.name }, 1);
    escrows.set(labels, row.escrows);
    quarantined.set(labels, row.quarantined ? 1 : 0);
    pausedConnections.set(labels, row.paused ? 1 : 0);
    enabled.set(labels, row.provisioningEnabled ? 1 : 0);
  }

  const findings = gauge(
    "provisioning_reconcile_findings",
    "What the latest reconcile report found, by object type and category (drifted users counted once each).",
    ["connection_id", "object_type", "category"],
  );
  const reconciledAt = gauge(
    "provisioning_reconcile_last_finished_timestamp_seconds",
    "When the latest reconcile report of the connection finished.",
    ["connection_id"],
  );
  for (const row of reconciles) {
    const counts = row.counts as {
      users?: Record<string, number>;
      groups?: Record<string, number>;
      driftedUsers?: number;
    };
    const set = (objectType: string, byCategory: Record<string, number> | undefined) => {
      for (const [category, count] of Object.entries(byCategory ?? {})) {
        const value =
          objectType === "User" && category === "drifted" ? (counts.driftedUsers ?? count) : count;
        findings.set({ connection_id: row.connectionId, object_type: objectType, category }, value);
      }
    };
    set("User", counts.users);
    set("Group", counts.groups);
    reconciledAt.set({ connection_id: row.connectionId }, row.finishedSeconds);
  }

  gauge("provisioning_workers_live", "Worker processes that heart-beat within the last 2 minutes.").set(
    workers[0]?.live ?? 0,
  );
  const heartbeat = gauge(
    "provisioning_worker_newest_heartbeat_age_seconds",
    "Seconds since the most recent heartbeat of any running worker (absent when none ever ran).",
  );
  if (workers[0]?.newestAgeSeconds != null) heartbeat.set(workers[0].newestAgeSeconds);

  return registry.metrics();
}
