import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { claimJobById } from "../../test/processes/fixtures";
import { completeJob, failJob } from "../jobs/store";
import { backstopReason, getContinuousState, provisioningPollJob, recordPoll } from "./continuous";
import {
  applyScheduleMode,
  finishCycle,
  queueCycleNow,
  startProvisioning,
  stopProvisioning,
} from "./schedule";
import { beginCycle } from "./units";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

async function continuousConnection() {
  return (
    await t.db.connection.create({
      data: { name: "continuous", scheduleMode: "continuous", provisioningEnabled: true },
    })
  ).id;
}

const liveJobs = (connectionId: string, kind: string) =>
  t.db.job.findMany({ where: { connectionId, kind, status: { in: ["queued", "running"] } } });

/** Start, the planner claimed and its cycle begun, then ended as the finalizer would. */
async function runOneCycle(connectionId: string) {
  const start = await startProvisioning(t.db, connectionId);
  if (!("job" in start)) throw new Error("no cycle job");
  const planner = await claimJobById(t.db, start.job.id, "p");
  const begun = await beginCycle(t.db, {
    connectionId,
    jobId: planner.id,
    type: "initial",
    trigger: "start",
  });
  if (!begun.started) throw new Error("not started");
  await completeJob(t.db, { jobId: planner.id, token: planner.leaseToken! }, { cycleId: begun.cycle.id });
  return finishCycle(t.db, begun.cycle.id, { status: "succeeded" });
}

describe("continuous mode's schedule", () => {
  test("a cycle's end queues a poll, not the next cycle, and the poll's end queues the next poll", async () => {
    const connectionId = await continuousConnection();
    const before = Date.now();
    const finished = await runOneCycle(connectionId);
    expect(finished).toMatchObject({ finished: true, next: { scheduled: false, reason: "continuous" } });
    expect(await liveJobs(connectionId, "provisioning-cycle")).toEqual([]);
    const [poll] = await liveJobs(connectionId, "provisioning-poll");
    expect(poll!.runAt.getTime()).toBeGreaterThanOrEqual(before + 2_000);

    // An idle poll asks to be run again in 3 s: its end queues exactly that, in the same transaction.
    const claimed = await claimJobById(t.db, poll!.id, "w");
    await completeJob(
      t.db,
      { jobId: claimed.id, token: claimed.leaseToken! },
      { next: "poll", delayMs: 3_000 },
      provisioningPollJob,
    );
    const [next] = await liveJobs(connectionId, "provisioning-poll");
    expect(next!.id).not.toBe(poll!.id);
    expect(next!.runAt.getTime() - Date.now()).toBeGreaterThan(2_000);

    // A poll that failed outright is tried again a minute later rather than ending continuous mode.
    const failing = await claimJobById(t.db, next!.id, "w");
    await failJob(
      t.db,
      { jobId: failing.id, token: failing.leaseToken! },
      { attempts: 3, maxAttempts: 3 },
      new Error("boom"),
      { kind: provisioningPollJob },
    );
    const [retry] = await liveJobs(connectionId, "provisioning-poll");
    expect(retry!.runAt.getTime() - Date.now()).toBeGreaterThan(50_000);
  });

  test("a poll that queued a cycle queues no poll while the cycle lives; the cycle's end does", async () => {
    const connectionId = await continuousConnection();
    await runOneCycle(connectionId);
    const [poll] = await liveJobs(connectionId, "provisioning-poll");
    const claimed = await claimJobById(t.db, poll!.id, "w");
    const seenAt = new Date();
    await t.db.$transaction(async (tx) => {
      await recordPoll(tx, connectionId, {
        succeeded: true,
        graphRequests: 4,
        change: { seenAt, digest: "d1" },
      });
      await queueCycleNow(tx, connectionId, { changeSeenAt: seenAt, trigger: "change" });
    });
    await completeJob(
      t.db,
      { jobId: claimed.id, token: claimed.leaseToken! },
      { next: "cycle" },
      provisioningPollJob,
    );
    expect(await liveJobs(connectionId, "provisioning-poll")).toEqual([]);
    const [cycleJob] = await liveJobs(connectionId, "provisioning-cycle");
    expect(cycleJob!.payload).toMatchObject({ trigger: "change", changeSeenAt: seenAt.toISOString() });

    const state = await getContinuousState(t.db, connectionId);
    expect(state).toMatchObject({
      scheduleMode: "continuous",
      lastChange: { seenAt, cycleId: null, writes: 0 },
    });
    expect(state!.nextPollAt).toBeNull();
  });

  test("switching modes hands the schedule over, and Stop ends the polls", async () => {
    const connectionId = await continuousConnection();
    await runOneCycle(connectionId);
    expect(await liveJobs(connectionId, "provisioning-poll")).toHaveLength(1);

    await t.db.connection.update({
      where: { id: connectionId },
      data: { scheduleMode: "interval", scheduleIntervalMinutes: 30 },
    });
    await t.db.$transaction((tx) => applyScheduleMode(tx, connectionId));
    expect(await liveJobs(connectionId, "provisioning-poll")).toEqual([]);
    const [cycle] = await liveJobs(connectionId, "provisioning-cycle");
    expect(cycle!.runAt.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);

    await t.db.connection.update({ where: { id: connectionId }, data: { scheduleMode: "continuous" } });
    await t.db.$transaction((tx) => applyScheduleMode(tx, connectionId));
    expect(await liveJobs(connectionId, "provisioning-cycle")).toEqual([]);
    expect(await liveJobs(connectionId, "provisioning-poll")).toHaveLength(1);

    await stopProvisioning(t.db, connectionId);
    expect(await liveJobs(connectionId, "provisioning-poll")).toEqual([]);
  });
});

describe("continuous mode's backstop", () => {
  test("a due escrow or a cycle older than the interval makes a poll run a cycle without any change", async () => {
    const connectionId = await continuousConnection();
    await t.db.connection.update({ where: { id: connectionId }, data: { scheduleIntervalMinutes: 40 } });
    // Never ran: Entra's rhythm is overdue.
    expect(await backstopReason(t.db, connectionId)).toBe("interval");
    await runOneCycle(connectionId);
    expect(await backstopReason(t.db, connectionId)).toBeNull();

    await t.db.escrow.create({
      data: {
        connectionId,
        objectType: "User",
        sourceId: "failed-user",
        nextRetryAt: new Date(Date.now() + 60_000),
      },
    });
    expect(await backstopReason(t.db, connectionId)).toBeNull();
    await t.db.escrow.updateMany({
      where: { connectionId },
      data: { nextRetryAt: new Date(Date.now() - 1_000) },
    });
    expect(await backstopReason(t.db, connectionId)).toBe("escrow-due");

    await t.db.escrow.deleteMany({ where: { connectionId } });
    const { lastCycleId } = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    await t.db.cycle.update({
      where: { id: lastCycleId! },
      data: { endedAt: new Date(Date.now() - 41 * 60_000) },
    });
    expect(await backstopReason(t.db, connectionId)).toBe("interval");
  });
});
