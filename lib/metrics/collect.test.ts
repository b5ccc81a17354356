import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { collectMetrics } from "./collect";
import { flushScimExchanges, recordScimExchange } from "./scim-exchanges";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

test("metrics report jobs, cycles, SCIM answers recorded by workers, escrow and quarantine from the database", async () => {
  const { id } = await t.db.connection.create({
    data: { name: "metrics", quarantineReason: "EncounteredQuarantineException" },
  });
  await t.db.escrow.createMany({
    data: ["a", "b"].map((sourceId) => ({
      connectionId: id,
      objectType: "User",
      sourceId,
      nextRetryAt: new Date(),
    })),
  });
  await t.db.job.create({ data: { kind: "on-demand", status: "queued", payload: {} } });
  const startedAt = new Date(Date.now() - 90_000);
  await t.db.cycle.create({
    data: {
      connectionId: id,
      type: "initial",
      status: "succeeded",
      trigger: "start",
      startedAt,
      endedAt: new Date(),
    },
  });
  for (const status of [200, 200, 429, undefined]) recordScimExchange(id, { status, durationMs: 100 });
  await flushScimExchanges(t.db);
  recordScimExchange(id, { status: 429, durationMs: 100 });
  await flushScimExchanges(t.db);

  await t.db.reconcileRun.create({
    data: {
      connectionId: id,
      status: "succeeded",
      requestedBy: "admin@contoso.example",
      finishedAt: new Date("2026-12-07T10:00:00Z"),
      counts: { users: { orphan: 3, drifted: 5 }, groups: { missing: 1 }, driftedUsers: 2 },
    },
  });

  const text = await collectMetrics(t.db);
  expect(text).toContain(
    `provisioning_reconcile_findings{connection_id="${id}",object_type="User",category="orphan"} 3`,
  );
  // Five drifted attributes of two users: two users drifted.
  expect(text).toContain(
    `provisioning_reconcile_findings{connection_id="${id}",object_type="User",category="drifted"} 2`,
  );
  expect(text).toContain(
    `provisioning_reconcile_findings{connection_id="${id}",object_type="Group",category="missing"} 1`,
  );
  expect(text).toContain(
    `provisioning_reconcile_last_finished_timestamp_seconds{connection_id="${id}"} 1796637600`,
  );
  expect(text).toContain('provisioning_jobs{kind="on-demand",status="queued"} 1');
  expect(text).toContain(`provisioning_scim_requests_total{connection_id="${id}",status_code="200"} 2`);
  expect(text).toContain(`provisioning_scim_requests_total{connection_id="${id}",status_code="none"} 1`);
  expect(text).toContain(`provisioning_scim_throttled_total{connection_id="${id}"} 2`);
  expect(text).toContain(`provisioning_escrow_objects{connection_id="${id}"} 2`);
  expect(text).toContain(`provisioning_connection_quarantined{connection_id="${id}"} 1`);
  // A 90 s cycle lands in the 120 s bucket, not the 60 s one.
  expect(text).toContain(
    `provisioning_cycle_duration_seconds_bucket{connection_id="${id}",status="succeeded",le="60"} 0`,
  );
  expect(text).toContain(
    `provisioning_cycle_duration_seconds_bucket{connection_id="${id}",status="succeeded",le="120"} 1`,
  );
  expect(text).toContain(
    `provisioning_cycle_duration_seconds_count{connection_id="${id}",status="succeeded"} 1`,
  );
});

test("continuous mode's metrics: polls, their Graph requests, and each change's time to reach Dialpad", async () => {
  const { id } = await t.db.connection.create({
    data: {
      name: "continuous metrics",
      scheduleMode: "continuous",
      pollCount: 12,
      pollGraphRequests: 48,
      lastPollAt: new Date(Date.now() - 5_000),
    },
  });
  const changeSeenAt = new Date(Date.now() - 60_000);
  const cycle = await t.db.cycle.create({
    data: { connectionId: id, type: "incremental", status: "succeeded", trigger: "change", changeSeenAt },
  });
  const entry = (action: string, status: string, afterSeconds: number) => ({
    connectionId: id,
    cycleId: cycle.id,
    changeId: crypto.randomUUID(),
    action,
    status,
    objectType: "User",
    initiatedBy: "System",
    activityDateTime: new Date(changeSeenAt.getTime() + afterSeconds * 1000),
  });
  await t.db.provisioningLog.createMany({
    // Two writes (4 s and 25 s after the poll saw the change); a skip and a failure wrote nothing.
    data: [
      entry("Update", "Success", 4),
      entry("Disable", "Warning", 25),
      entry("Other", "Skipped", 2),
      entry("Create", "Failure", 3),
    ],
  });

  const text = await collectMetrics(t.db);
  expect(text).toContain(`provisioning_continuous_polls_total{connection_id="${id}"} 12`);
  expect(text).toContain(`provisioning_continuous_graph_requests_total{connection_id="${id}"} 48`);
  expect(text).toMatch(
    new RegExp(`provisioning_continuous_last_poll_age_seconds\\{connection_id="${id}"\\} [4-9]`),
  );
  expect(text).toContain(`provisioning_change_propagation_seconds_bucket{connection_id="${id}",le="5"} 1`);
  expect(text).toContain(`provisioning_change_propagation_seconds_bucket{connection_id="${id}",le="20"} 1`);
  expect(text).toContain(`provisioning_change_propagation_seconds_bucket{connection_id="${id}",le="30"} 2`);
  expect(text).toContain(`provisioning_change_propagation_seconds_count{connection_id="${id}"} 2`);
  expect(text).toContain(`provisioning_change_propagation_seconds_sum{connection_id="${id}"} 29`);
});
