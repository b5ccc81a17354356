import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../database";
import { getCycle } from "../../lib/cycle/units";
import { getJob } from "../../lib/jobs/store";
import { runPlanner, spawnWorker, waitFor, type WorkerChild } from "./fixtures";

/**
 * Worker processes as they run in production: separate OS processes sharing one PostgreSQL, started,
 * killed and stopped with real signals.
 */
let t: TestDatabase;
let connectionId: string;
const children: WorkerChild[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db
    .$executeRaw`CREATE TABLE test_unit_runs (job_id uuid NOT NULL, worker text NOT NULL, event text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`;
  connectionId = (await t.db.connection.create({ data: { name: "processes" } })).id;
});
afterAll(async () => {
  for (const { child } of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map((worker) => worker.exited));
  await t.drop();
});

function start(name: string, options?: Parameters<typeof spawnWorker>[2]): WorkerChild {
  const worker = spawnWorker(t.url, name, options);
  children.push(worker);
  return worker;
}

async function stop(worker: WorkerChild): Promise<{ code: number | null; ms: number }> {
  const sentAt = Date.now();
  worker.child.kill("SIGTERM");
  const exit = await worker.exited;
  return { code: exit.code, ms: exit.at - sentAt };
}

async function runCounts(jobIds: string[]) {
  return t.db.$queryRaw<{ job_id: string; started: number; finished: number; workers: number }[]>`
    SELECT job_id, count(*) FILTER (WHERE event = 'started')::int AS started,
      count(*) FILTER (WHERE event = 'finished')::int AS finished, count(DISTINCT worker)::int AS workers
    FROM test_unit_runs WHERE job_id = ANY(${jobIds}::uuid[]) GROUP BY job_id`;
}

/** Runs one cycle of `units` I/O-bound units (250 ms each) and returns how long until it ended. */
async function timedCycle(units: number): Promise<{ cycleId: string; unitJobIds: string[]; ms: number }> {
  const startedAt = Date.now();
  const planned = await runPlanner(
    t.db,
    connectionId,
    Array.from({ length: units }, () => ({ phase: "users", input: { sleepMs: 250 } })),
  );
  await waitFor(async () => (await getCycle(t.db, planned.cycleId))?.status === "succeeded", {
    what: "the cycle to succeed",
    timeoutMs: 20_000,
  });
  return { ...planned, ms: Date.now() - startedAt };
}

describe("worker processes", () => {
  test("every unit runs exactly once, the cycle finalizes once, and 3 workers beat 1", async () => {
    const first = start("w1");
    await first.ready;
    const alone = await timedCycle(16);

    const more = [start("w2"), start("w3")];
    await Promise.all(more.map((worker) => worker.ready));
    const together = await timedCycle(16);

    for (const run of [alone, together]) {
      const counts = await runCounts(run.unitJobIds);
      expect(counts).toHaveLength(16);
      expect(counts.every((row) => row.started === 1 && row.finished === 1)).toBe(true);
      const cycle = await getCycle(t.db, run.cycleId);
      expect(cycle).toMatchObject({ status: "succeeded", completedUnits: 16, totalUnits: 16 });
      const finalizers = await t.db.job.findMany({ where: { kind: "cycle-finalize", cycleId: run.cycleId } });
      expect(finalizers).toHaveLength(1);
      const [finalized] = await t.db.$queryRaw<{ count: number }[]>`
        SELECT count(*)::int AS count FROM test_unit_runs WHERE job_id = ${finalizers[0]!.id}::uuid`;
      expect(finalized?.count).toBe(1);
    }
    const workersUsed = await t.db.$queryRaw<{ count: number }[]>`
      SELECT count(DISTINCT worker)::int AS count FROM test_unit_runs WHERE job_id = ANY(${together.unitJobIds}::uuid[])`;
    expect(workersUsed[0]?.count).toBe(3);
    // 16 × 250 ms at concurrency 2: ~2 s for one worker, ~0.7 s for three.
    expect(together.ms).toBeLessThan(alone.ms * 0.7);

    // The finalizer queued the next incremental cycle for now + the 40-minute default interval.
    const next = await t.db.job.findFirst({
      where: { kind: "provisioning-cycle", connectionId, status: "queued" },
    });
    expect(next?.runAt.getTime()).toBeGreaterThan(Date.now() + 39 * 60_000);

    // Idle workers stop promptly on SIGTERM.
    for (const result of await Promise.all([first, ...more].map(stop))) {
      expect(result.code).toBe(0);
      expect(result.ms).toBeLessThan(3_000);
    }
  });

  test("a SIGKILLed worker's unit is taken over after its lease expires and completes once", async () => {
    const pair = [start("victim", { concurrency: 1 }), start("rescuer", { concurrency: 1 })];
    const ids = await Promise.all(pair.map((worker) => worker.ready));
    const { cycleId, unitJobIds } = await runPlanner(t.db, connectionId, [
      { phase: "users", input: { sleepMs: 1_500 } },
    ]);
    const unitJobId = unitJobIds[0]!;
    const holder = await waitFor(
      async () => {
        const [row] = await t.db.$queryRaw<{ worker: string }[]>`
          SELECT worker FROM test_unit_runs WHERE job_id = ${unitJobId}::uuid AND event = 'started'`;
        return row?.worker;
      },
      { what: "the unit to start" },
    );
    const victim = pair[ids.indexOf(holder)]!;
    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    expect((await victim.exited).signal).toBe("SIGKILL");

    await waitFor(async () => (await getCycle(t.db, cycleId))?.status === "succeeded", {
      what: "the cycle to succeed after the take-over",
    });
    // Lease 2 s: not taken over before it expired.
    const [takeover] = await t.db.$queryRaw<{ at: Date; worker: string }[]>`
      SELECT at, worker FROM test_unit_runs WHERE job_id = ${unitJobId}::uuid AND event = 'started' ORDER BY at DESC LIMIT 1`;
    expect(takeover?.worker).not.toBe(holder);
    expect(takeover!.at.getTime()).toBeGreaterThan(killedAt);
    const [counts] = await runCounts([unitJobId]);
    expect(counts).toMatchObject({ started: 2, finished: 1, workers: 2 });
    const job = await getJob(t.db, unitJobId);
    expect(job).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(await getCycle(t.db, cycleId)).toMatchObject({ completedUnits: 1, totalUnits: 1, failedUnits: 0 });

    const survivor = pair.find((worker) => worker !== victim)!;
    expect((await stop(survivor)).code).toBe(0);
  });

  test("SIGTERM: the worker finishes what fits in the grace period, hands back the rest, and exits in time", async () => {
    const graceMs = 1_000;
    const worker = start("terminated", { concurrency: 2, graceMs });
    const workerId = await worker.ready;
    const { cycleId, unitJobIds } = await runPlanner(t.db, connectionId, [
      { phase: "users", input: { sleepMs: 400 } },
      { phase: "users", input: { sleepMs: 30_000, ignoreAbort: true } },
    ]);
    const [shortJobId, longJobId] = unitJobIds as [string, string];
    await waitFor(async () => (await runCounts(unitJobIds)).length === 2, { what: "both units to start" });

    const result = await stop(worker);
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(graceMs + 3_000);

    expect(await getJob(t.db, shortJobId)).toMatchObject({ status: "succeeded" });
    // Handed back untouched: queued again, unlocked, the attempt it used returned.
    expect(await getJob(t.db, longJobId)).toMatchObject({ status: "queued", lockedBy: null, attempts: 0 });
    expect(await getCycle(t.db, cycleId)).toMatchObject({
      status: "running",
      completedUnits: 1,
      totalUnits: 2,
    });
    const row = await t.db.worker.findUnique({ where: { id: workerId } });
    expect(row?.stoppedAt).not.toBeNull();
  });
});
