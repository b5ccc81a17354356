import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { claimJobById, runPlanner, waitFor } from "../../test/processes/fixtures";
import {
  beginCycle,
  cancelUnitOfStoppedCycle,
  cycleFinalizeJob,
  cycleUnitJob,
  enqueueCycleUnits,
  getCycle,
  recordCycleUnitOutcome,
  settleStalledCycles,
} from "./units";
import { recountUnits, withdrawUnstartedUnits } from "./state";
import { handles, JobWorker, type JobLogger } from "../jobs/runner";
import {
  finishCycle,
  provisioningCycleJob,
  getProvisioningState,
  restartProvisioning,
  scheduleNextCycle,
  startProvisioning,
  stopProvisioning,
} from "./schedule";
import { completeJob, enqueueJob, failJob, releaseJob, type JobRow } from "../jobs/store";

const silent: JobLogger = { info() {}, warn() {}, error() {} };
const attempt = (job: JobRow) => ({ jobId: job.id, token: job.leaseToken! });
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

async function newConnection(data: { scheduleIntervalMinutes?: number; provisioningEnabled?: boolean } = {}) {
  return (await t.db.connection.create({ data: { name: "schedule test", ...data } })).id;
}

/** Start pressed, its planner job claimed and its cycle begun: the planner may queue units. */
async function plannerWithCycle(connectionId: string) {
  const start = await startProvisioning(t.db, connectionId);
  if (!("job" in start)) throw new Error("no cycle job");
  const planner = await claimJobById(t.db, start.job.id, "p");
  const begun = await beginCycle(t.db, {
    connectionId,
    jobId: planner!.id,
    type: "initial",
    trigger: "start",
  });
  if (!begun.started) throw new Error("not started");
  return { planner, begun };
}

async function queuedCycleJobs(connectionId: string) {
  return t.db.job.findMany({ where: { kind: "provisioning-cycle", connectionId, status: "queued" } });
}

describe("cycles and schedule", () => {
  test("concurrent Start requests for one connection start one cycle", async () => {
    const connectionId = await newConnection();
    const results = await Promise.all([1, 2, 3, 4].map(() => startProvisioning(t.db, connectionId)));
    const jobs = await queuedCycleJobs(connectionId);
    expect(jobs).toHaveLength(1);
    expect(results.every((result) => "job" in result && result.job.id === jobs[0]!.id)).toBe(true);

    // Even two planners racing (say a duplicate job written by hand) begin one cycle.
    const begun = await Promise.all(
      [jobs[0]!.id, crypto.randomUUID()].map((jobId) =>
        beginCycle(t.db, { connectionId, jobId, type: "initial", trigger: "start" }),
      ),
    );
    expect(begun.filter((result) => result.started)).toHaveLength(1);
    expect(await t.db.cycle.count({ where: { connectionId } })).toBe(1);
    // Start while it runs changes nothing.
    expect(await startProvisioning(t.db, connectionId)).toMatchObject({ outcome: "already-running" });
  });

  test("Stop during a cycle: the running unit finishes, queued units are cancelled, nothing is scheduled until Start", async () => {
    const connectionId = await newConnection();
    const started: number[] = [];
    const worker = new JobWorker({
      db: t.db,
      databaseUrl: t.url,
      log: silent,
      concurrency: 1,
      pollIntervalMs: 50,
      handlers: [
        handles(
          cycleUnitJob,
          async (payload) => {
            started.push(payload.unitIndex);
            await new Promise((resolve) => setTimeout(resolve, 300));
          },
          { cancelBeforeStart: cancelUnitOfStoppedCycle(t.db) },
        ),
        handles(cycleFinalizeJob, async (payload) => finishCycle(t.db, payload.cycleId)),
      ],
    });
    await worker.start();
    try {
      const { cycleId } = await runPlanner(
        t.db,
        connectionId,
        Array.from({ length: 5 }, () => ({ phase: "users" })),
      );
      await waitFor(async () => started.length === 1, { what: "the first unit to start" });
      const stop = await stopProvisioning(t.db, connectionId);
      expect(stop).toMatchObject({ found: true, stoppingCycleId: cycleId, cancelledUnits: 4 });

      await waitFor(async () => (await getCycle(t.db, cycleId))?.status === "stopped", {
        what: "the cycle to stop",
      });
      expect(started).toEqual([0]);
      expect(await getCycle(t.db, cycleId)).toMatchObject({
        completedUnits: 1,
        cancelledUnits: 4,
        totalUnits: 5,
        stopRequested: true,
      });
      const state = await getProvisioningState(t.db, connectionId);
      expect(state).toMatchObject({ paused: true, nextCycleAt: null, currentCycle: { status: "stopped" } });
      expect(await queuedCycleJobs(connectionId)).toHaveLength(0);
      expect(await scheduleNextCycle(t.db, connectionId)).toEqual({ scheduled: false, reason: "paused" });

      const restarted = await startProvisioning(t.db, connectionId);
      expect(restarted).toMatchObject({ outcome: "queued" });
      expect((await getProvisioningState(t.db, connectionId))?.paused).toBe(false);
    } finally {
      await worker.stop();
    }
  });

  test("a unit claimed after Stop is cancelled instead of run", async () => {
    const connectionId = await newConnection();
    const { cycleId, unitJobIds } = await runPlanner(t.db, connectionId, [
      { phase: "users" },
      { phase: "users" },
    ]);
    // Claimed before Stop commits: Stop cannot cancel a running job…
    const claimed = await claimJobById(t.db, unitJobIds[0]!, "early");
    await stopProvisioning(t.db, connectionId);
    // …and the worker that claimed it re-queues it after a transient failure; the next claim must not run it.
    expect(
      await failJob(t.db, attempt(claimed), claimed, new Error("503"), {
        retryBaseMs: 1,
        kind: cycleUnitJob,
      }),
    ).toBe("retrying");
    await new Promise((resolve) => setTimeout(resolve, 20));
    let ran = 0;
    const worker = new JobWorker({
      db: t.db,
      databaseUrl: t.url,
      log: silent,
      pollIntervalMs: 50,
      handlers: [
        handles(
          cycleUnitJob,
          async () => {
            ran += 1;
          },
          { cancelBeforeStart: cancelUnitOfStoppedCycle(t.db) },
        ),
        handles(cycleFinalizeJob, async (payload) => finishCycle(t.db, payload.cycleId)),
      ],
    });
    await worker.start();
    await waitFor(async () => (await getCycle(t.db, cycleId))?.status === "stopped", { what: "stopped" });
    await worker.stop();
    expect(ran).toBe(0);
    expect(await getCycle(t.db, cycleId)).toMatchObject({ completedUnits: 0, cancelledUnits: 2 });
  });

  test("units finishing concurrently are counted once each and enqueue exactly one finalizer", async () => {
    const connectionId = await newConnection();
    const { cycleId, unitJobIds } = await runPlanner(
      t.db,
      connectionId,
      Array.from({ length: 20 }, () => ({ phase: "users" })),
    );
    const units = await Promise.all(unitJobIds.map((jobId, index) => claimJobById(t.db, jobId, `w${index}`)));
    expect(units).toHaveLength(20);
    await Promise.all(
      units.map((job, index) =>
        index === 0
          ? failJob(t.db, attempt(job), job, Object.assign(new Error("bad data"), { permanent: true }), {
              kind: cycleUnitJob,
            })
          : completeJob(t.db, attempt(job), null, cycleUnitJob),
      ),
    );
    // A late report from a worker that lost its lease counts nothing.
    expect(await completeJob(t.db, attempt(units[1]!), null, cycleUnitJob)).toBe(false);

    expect(await getCycle(t.db, cycleId)).toMatchObject({
      completedUnits: 19,
      failedUnits: 1,
      totalUnits: 20,
    });
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId } })).toBe(1);
  });

  test("a recount of the unit counters while a unit's outcome commits loses no completion", async () => {
    const connectionId = await newConnection();
    const { cycleId, unitJobIds } = await runPlanner(t.db, connectionId, [
      { phase: "users" },
      { phase: "users" },
    ]);
    const [first, second] = await Promise.all(
      unitJobIds.map((jobId, index) => claimJobById(t.db, jobId, `w${index}`)),
    );
    await completeJob(t.db, attempt(first!), null, cycleUnitJob);
    // The last unit's outcome is written but not committed when the planner recounts (it does so while
    // it queues more units): the recount waits for the row, then must not put back the older count.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const outcomeWritten = new Promise<void>((resolve) => (written = resolve));
    const outcome = t.db.$transaction(async (tx) => {
      await recordCycleUnitOutcome(tx, second!.id, "completed");
      written();
      await held;
    });
    await outcomeWritten;
    const recount = t.db.$transaction((tx) => recountUnits(tx, cycleId));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await Promise.all([outcome, recount]);
    expect(await getCycle(t.db, cycleId)).toMatchObject({ completedUnits: 2, totalUnits: 2 });
  });

  test("a cycle whose units all ended but whose finalizer was never queued is recounted and finalized", async () => {
    const connectionId = await newConnection();
    const stalled = await runPlanner(t.db, connectionId, [{ phase: "users" }, { phase: "users" }]);
    for (const jobId of stalled.unitJobIds)
      await completeJob(t.db, attempt(await claimJobById(t.db, jobId, "w")), null, cycleUnitJob);
    // What a lost count leaves: both units completed, the counter one short, no finalizer.
    await t.db.job.deleteMany({ where: { kind: "cycle-finalize", cycleId: stalled.cycleId } });
    await t.db.cycle.update({
      where: { id: stalled.cycleId },
      data: { completedUnits: 1, finalizeQueuedAt: null },
    });
    // Another connection's cycle still has a unit to run: it is left alone.
    const busy = await runPlanner(t.db, await newConnection(), [{ phase: "users" }]);

    expect(await settleStalledCycles(t.db)).toEqual([stalled.cycleId]);
    expect(await getCycle(t.db, stalled.cycleId)).toMatchObject({ completedUnits: 2, totalUnits: 2 });
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: stalled.cycleId } })).toBe(1);
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: busy.cycleId } })).toBe(0);
    // Once queued, it is not queued again.
    expect(await settleStalledCycles(t.db)).toEqual([]);
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: stalled.cycleId } })).toBe(1);
  });

  test("the last unit is not last while the planner may still add units", async () => {
    const { planner, begun } = await plannerWithCycle(await newConnection());
    const first = await enqueueCycleUnits(t.db, begun.cycle.id, [{ phase: "users" }]);
    const unit = await claimJobById(t.db, first.accepted ? first.jobIds[0]! : "", "u");
    await completeJob(t.db, attempt(unit), null, cycleUnitJob);
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: begun.cycle.id } })).toBe(0);
    const more = await enqueueCycleUnits(t.db, begun.cycle.id, [{ phase: "groups" }]);
    expect(more).toMatchObject({ accepted: true, unitIndexes: [1], totalUnits: 2 });
    await completeJob(t.db, attempt(planner), null, provisioningCycleJob);
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: begun.cycle.id } })).toBe(0);
    const second = await claimJobById(t.db, more.accepted ? more.jobIds[0]! : "", "u");
    await completeJob(t.db, attempt(second), null, cycleUnitJob);
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: begun.cycle.id } })).toBe(1);
  });

  test("a re-run planner's units take indexes after every unit still on the cycle", async () => {
    const { begun } = await plannerWithCycle(await newConnection());
    const cycleId = begun.cycle.id;
    const first = await enqueueCycleUnits(
      t.db,
      cycleId,
      [1, 2, 3, 4].map(() => ({ phase: "users" as const })),
    );
    if (!first.accepted) throw new Error("refused");
    // Units 1 and 3 started before the planner's attempt ended; 2 started and was handed back by a
    // draining worker (queued again, after it may have created users); 0 was never claimed.
    await claimJobById(t.db, first.jobIds[1]!, "u");
    await claimJobById(t.db, first.jobIds[3]!, "u");
    const drained = await claimJobById(t.db, first.jobIds[2]!, "u");
    expect(await releaseJob(t.db, attempt(drained))).toBe(true);
    await t.db.$transaction((tx) => withdrawUnstartedUnits(tx, cycleId));
    expect(await getCycle(t.db, cycleId)).toMatchObject({ totalUnits: 3 });
    expect(await t.db.job.count({ where: { id: first.jobIds[2]! } })).toBe(1);
    expect(await t.db.job.count({ where: { id: first.jobIds[0]! } })).toBe(0);

    const again = await enqueueCycleUnits(t.db, cycleId, [{ phase: "users" }, { phase: "users" }]);
    expect(again).toMatchObject({ accepted: true, unitIndexes: [4, 5], totalUnits: 5 });
    const indexes = await t.db.cycleUnit.findMany({ where: { cycleId }, orderBy: { unitIndex: "asc" } });
    expect(indexes.map((unit) => unit.unitIndex)).toEqual([1, 2, 3, 4, 5]);
  });

  test("the next cycle follows the interval, quarantine only delays it, and Off or paused schedules nothing", async () => {
    const connectionId = await newConnection({ scheduleIntervalMinutes: 10, provisioningEnabled: true });
    const before = Date.now();
    const result = await scheduleNextCycle(t.db, connectionId);
    if (!result.scheduled) throw new Error("not scheduled");
    expect(result.job.runAt.getTime()).toBeGreaterThanOrEqual(before + 10 * 60_000);
    expect(result.job.runAt.getTime()).toBeLessThan(before + 11 * 60_000);

    // Quarantine's next attempt in 2 h wins over the interval; one in 1 min does not speed it up.
    await t.db.job.deleteMany({ where: { connectionId } });
    const quarantined = await scheduleNextCycle(t.db, connectionId, {
      notBefore: new Date(before + 2 * 3_600_000),
      trigger: "quarantine-retry",
    });
    expect(quarantined.scheduled && quarantined.job.runAt.getTime()).toBe(before + 2 * 3_600_000);
    await t.db.job.deleteMany({ where: { connectionId } });
    const early = await scheduleNextCycle(t.db, connectionId, { notBefore: new Date(before + 60_000) });
    expect(early.scheduled && early.job.runAt.getTime()).toBeGreaterThanOrEqual(before + 10 * 60_000);

    // Start moves the queued cycle to now instead of adding one.
    const moved = await startProvisioning(t.db, connectionId);
    expect(moved).toMatchObject({ outcome: "moved-to-now" });
    expect((await queuedCycleJobs(connectionId))[0]!.runAt.getTime()).toBeLessThanOrEqual(Date.now());

    await t.db.job.deleteMany({ where: { connectionId } });
    await t.db.connection.update({ where: { id: connectionId }, data: { provisioningEnabled: false } });
    expect(await scheduleNextCycle(t.db, connectionId)).toEqual({
      scheduled: false,
      reason: "provisioning-off",
    });
  });

  test("Restart stops the running cycle, clears what it is asked to, and queues a cycle now", async () => {
    const connectionId = await newConnection();
    await t.db.connection.update({
      where: { id: connectionId },
      data: {
        usersDeltaLink: "https://graph/delta?token=1",
        quarantineReason: "EncounteredQuarantineException",
      },
    });
    await t.db.escrow.create({
      data: { connectionId, objectType: "User", sourceId: "u1", nextRetryAt: new Date() },
    });
    const { cycleId } = await runPlanner(t.db, connectionId, [{ phase: "users" }, { phase: "users" }]);
    const restarted = await restartProvisioning(t.db, connectionId, {
      clearDeltaLinks: true,
      clearEscrows: true,
    });
    expect(restarted).toMatchObject({ outcome: "queued", job: { payload: { trigger: "restart" } } });
    expect(await getCycle(t.db, cycleId)).toMatchObject({ stopRequested: true, cancelledUnits: 2 });
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection).toMatchObject({
      usersDeltaLink: null,
      paused: false,
      quarantineReason: "EncounteredQuarantineException",
    });
    expect(await t.db.escrow.count({ where: { connectionId } })).toBe(0);
  });

  test("a planner that fails ends its cycle as failed once its units are done", async () => {
    const connectionId = await newConnection();
    const { job } = await enqueueJob(
      t.db,
      provisioningCycleJob,
      { connectionId, trigger: "start", dryRun: false },
      { connectionId },
    );
    await t.db.connection.update({ where: { id: connectionId }, data: { provisioningEnabled: true } });
    const planner = await claimJobById(t.db, job.id, "p");
    const begun = await beginCycle(t.db, { connectionId, jobId: job.id, type: "initial", trigger: "start" });
    if (!begun.started) throw new Error("not started");
    await failJob(
      t.db,
      attempt(planner),
      planner,
      Object.assign(new Error("Graph said 401"), { permanent: true }),
      {
        kind: provisioningCycleJob,
      },
    );
    expect(await t.db.job.count({ where: { kind: "cycle-finalize", cycleId: begun.cycle.id } })).toBe(1);
    const finished = await finishCycle(t.db, begun.cycle.id);
    expect(finished).toMatchObject({ finished: true, status: "failed", next: { scheduled: true } });
    expect(await getCycle(t.db, begun.cycle.id)).toMatchObject({ error: { message: "Graph said 401" } });
    expect(await finishCycle(t.db, begun.cycle.id)).toEqual({ finished: false });
  });
});
