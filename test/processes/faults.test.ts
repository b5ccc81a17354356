import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, test } from "vitest";
import type { Job } from "@/lib/db/generated/client";
import { waitFor } from "./fixtures";
import {
  type EngineWorker,
  type FaultRig,
  isAlive,
  logLines,
  startFaultRig,
  startOwnPostgres,
} from "./fault-rig";
import { collectFaultReport, expectConverged, summarize, type FaultReport } from "./invariants";

/**
 * Faults a provisioning engine meets in production (issue 13), each against real engine worker
 * processes, a real PostgreSQL and the emulators: the fault lands while a cycle runs, the cycle is left
 * to recover on its own, and then the end state is counted (test/processes/invariants.ts) and must be
 * what a fault-free cycle leaves: every in-scope user in Dialpad once, no false failure, every change
 * logged, a Succeeded status only when all planned work ran, counts equal to the log.
 *
 * Leases are 5 s (the engine's minimum) and the directory 300 users (about 190 in scope, 10 units of 20),
 * so a scenario takes seconds of engine time. Where the engine offers no hook ("a unit is in flight"),
 * the test polls the Job, Cycle and ObjectLink rows, or the emulators' request logs.
 */
const USERS = 300;
const LEASE_SECONDS = 5;
const SCENARIO_TIMEOUT_MS = 150_000;
let rig: FaultRig | undefined;
let workersReadyMs = 0;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function report(name: string, cycleId: string): Promise<FaultReport> {
  const result = await collectFaultReport({
    db: rig!.t.db,
    sandbox: rig!.sandbox,
    connectionId: rig!.connectionId,
    cycleId,
  });
  const cycle = await rig!.t.db.cycle.findUniqueOrThrow({ where: { id: cycleId } });
  const cycleSeconds = ((cycle.endedAt ?? new Date()).getTime() - cycle.startedAt.getTime()) / 1000;
  console.log(summarize(name, result));
  console.log(
    `[fault] time: workers ready after ${(workersReadyMs / 1000).toFixed(1)} s, cycle ran ${cycleSeconds.toFixed(1)} s`,
  );
  console.log(workerTroubles());
  return result;
}

/** The workers' warnings and errors (lease lost, job failed…), a few lines each, to explain a failure. */
function workerTroubles(): string {
  const lines: string[] = [];
  for (const worker of rig!.workers) {
    const troubles = worker.output.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as {
          level?: number;
          msg?: string;
          jobId?: string;
          kind?: string;
          err?: string;
        };
        if ((entry.level ?? 0) < 40) return [];
        return [
          `  ${worker.name}: ${entry.msg} ${entry.kind ?? ""} ${entry.jobId?.slice(0, 8) ?? ""} ${entry.err?.slice(0, 140) ?? ""}`,
        ];
      } catch {
        return [];
      }
    });
    lines.push(...troubles.slice(0, 8));
    if (troubles.length > 8) lines.push(`  ${worker.name}: … ${troubles.length - 8} more`);
  }
  return lines.length ? `[fault] worker warnings:\n${lines.join("\n")}` : "[fault] worker warnings: none";
}

async function startWorkers(
  names: string[],
  settings: Parameters<FaultRig["startWorker"]>[1] = {},
): Promise<EngineWorker[]> {
  const startedAt = Date.now();
  const workers = names.map((name) => rig!.startWorker(name, { leaseSeconds: LEASE_SECONDS, ...settings }));
  await Promise.race([
    Promise.all(workers.map((worker) => worker.id)),
    sleep(60_000).then(() => {
      throw new Error(`workers did not start:\n${workers.flatMap((worker) => worker.output).join("\n")}`);
    }),
  ]);
  workersReadyMs = Date.now() - startedAt;
  return workers;
}

/**
 * A running unit of `cycleId` that has created some but not all of its users: a fault landing now hits
 * the middle of a unit. Progress is read from the Dialpad emulator (the unit records its links and log
 * entries in batches, so the database may not show a half-done unit yet).
 */
async function unitInFlight(cycleId: string): Promise<Job> {
  const db = rig!.t.db;
  const company = rig!.sandbox.dialpad.company;
  return waitFor(
    async () => {
      const rows = await db.job.findMany({ where: { cycleId, kind: "cycle-unit", status: "running" } });
      for (const row of rows) {
        const creates = (
          (row.payload as { input: { operations?: { kind: string; resource?: { userName?: string } }[] } })
            .input.operations ?? []
        ).filter((operation) => operation.kind === "create");
        const done = creates.filter(
          (operation) =>
            operation.resource?.userName && company.findUserByUserName(operation.resource.userName),
        ).length;
        if (done >= 2 && done <= creates.length - 4) return row;
      }
      return false;
    },
    { what: "a unit half done", timeoutMs: 60_000, intervalMs: 5 },
  );
}

async function holderOf(jobId: string): Promise<{ holderId: string; holder: EngineWorker }> {
  const job = await rig!.t.db.job.findUniqueOrThrow({ where: { id: jobId } });
  const holder = job.lockedBy ? await rig!.workerById(job.lockedBy) : undefined;
  if (!job.lockedBy || !holder) throw new Error(`job ${jobId} is not held by one of the test's workers`);
  return { holderId: job.lockedBy, holder };
}

interface WriteMark {
  dialpadRequests: number;
  logSeq: bigint;
  dbNow: Date;
}

/** Where the emulator's request log and the database stand now, to find writes made after this point. */
async function markWrites(): Promise<WriteMark> {
  const [row] = await rig!.t.db.$queryRaw<{ seq: bigint | null; now: Date }[]>`
    SELECT (SELECT max(seq) FROM "ProvisioningLog") AS seq, now() AS now`;
  return { dialpadRequests: rig!.sandbox.dialpad.requests.length, logSeq: row?.seq ?? 0n, dbNow: row!.now };
}

/**
 * Writes made after `mark` on behalf of `jobs` (whose re-runs had all finished by then): requests that
 * change the jobs' users in Dialpad, their provisioning-log entries, their users' links, and the job
 * rows themselves. Anything here came from an attempt whose lease had lapsed.
 */
async function strayWrites(mark: WriteMark, jobs: Job[]) {
  const { db } = rig!.t;
  // The frozen worker may hold the planner too (its payload has no operations): units name the users.
  const operations = jobs.flatMap(
    (job) =>
      (job.payload as { input?: { operations?: { sourceId: string; resource?: { userName?: unknown } }[] } })
        .input?.operations ?? [],
  );
  const userNames = new Set(
    operations.flatMap((operation) =>
      typeof operation.resource?.userName === "string" ? [operation.resource.userName.toLowerCase()] : [],
    ),
  );
  const targetIds = new Set(
    [...userNames].flatMap((userName) => rig!.sandbox.dialpad.company.findUserByUserName(userName)?.id ?? []),
  );
  const dialpadWrites = rig!.sandbox.dialpad.requests.slice(mark.dialpadRequests).filter((request) => {
    if (request.method === "POST") {
      const userName = (request.body as { userName?: unknown } | undefined)?.userName;
      return typeof userName === "string" && userNames.has(userName.toLowerCase());
    }
    return request.method !== "GET" && targetIds.has(request.path.split("/").pop() ?? "");
  }).length;
  const jobIds = jobs.map((job) => job.id);
  // Which requests, when a test fails on them: enough to tell a late send from a retry.
  if (dialpadWrites > 0)
    console.log(
      "[fault] writes after the mark:",
      rig!.sandbox.dialpad.requests
        .slice(mark.dialpadRequests)
        .filter((request) => request.method !== "GET")
        .map((request) => `${request.method} ${request.path} ${request.status}`)
        .join("; "),
    );
  return {
    dialpadWrites,
    logEntries: await db.provisioningLog.count({
      where: { jobId: { in: jobIds }, seq: { gt: mark.logSeq } },
    }),
    links: await db.objectLink.count({
      where: {
        connectionId: rig!.connectionId,
        sourceId: { in: operations.map((operation) => operation.sourceId) },
        updatedAt: { gt: mark.dbNow },
      },
    }),
    jobRows: await db.job.count({ where: { id: { in: jobIds }, updatedAt: { gt: mark.dbNow } } }),
  };
}

/** Whatever a worker resumed or stopped a moment ago still does (stray writes) lands before the count. */
const SETTLE_MS = 2_000;

describe("fault tests (issue 13)", () => {
  test(
    "no fault: a fanned-out cycle on two workers meets every invariant (the yardstick itself)",
    async () => {
      rig = await startFaultRig({ name: "faults-baseline", users: USERS, dialpadLatencyMs: 20 });
      await startWorkers(["a", "b"]);
      const { cycle } = await rig.startCycle();
      const ended = await rig.waitForCycleEnd(cycle.id);
      const result = await report("baseline", ended.id);
      expect(result.cycle.totalUnits).toBeGreaterThanOrEqual(8);
      expect(result.expectedUsers).toBeGreaterThan(150);
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test.each([
    { when: "planning", at: "the planner runs" },
    { when: "units", at: "a unit is half done" },
  ])(
    "1a. PostgreSQL frozen (SIGSTOP) 12 s, longer than the 5 s lease, while $at: the same cycle completes every user once",
    async ({ when }) => {
      const postgres = await startOwnPostgres();
      try {
        rig = await startFaultRig({
          name: `faults-pg-freeze-${when}`,
          users: USERS,
          database: postgres.database,
          dialpadLatencyMs: when === "units" ? 120 : 20,
          graphLatencyMs: when === "planning" ? 100 : 0,
        });
      } catch (error) {
        await postgres.database.drop();
        throw error;
      }
      await startWorkers(["a", "b"]);
      const { plannerJobId, cycle } = await rig.startCycle();
      if (when === "planning") {
        const planner = await rig.t.db.job.findUniqueOrThrow({ where: { id: plannerJobId } });
        expect(planner.status).toBe("running");
      } else {
        await unitInFlight(cycle.id);
      }
      const pids = postgres.processes();
      expect(pids.length).toBeGreaterThan(3); // postmaster, its helpers and the workers' backends
      for (const pid of pids) process.kill(pid, "SIGSTOP");
      try {
        await sleep(12_000);
      } finally {
        for (const pid of pids) process.kill(pid, "SIGCONT");
      }

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      await sleep(SETTLE_MS);
      const result = await report(`PostgreSQL freeze during ${when}`, ended.id);
      expectConverged(result);
      expect(result.cycle.totalUnits).toBeGreaterThanOrEqual(8);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "1b. the worker holding the planner is frozen (SIGSTOP) past its lease and another takes the cycle over: the resumed planner writes nothing",
    async () => {
      rig = await startFaultRig({
        name: "faults-stop-planner",
        users: USERS,
        dialpadLatencyMs: 20,
        graphLatencyMs: 100,
      });
      await startWorkers(["a", "b"]);
      const { plannerJobId, cycle } = await rig.startCycle();
      const { holderId, holder } = await holderOf(plannerJobId);
      holder.child.kill("SIGSTOP");
      try {
        // The lease lapses and the other worker claims the planner job (attempt 2).
        const takenOver = await waitFor(
          async () => {
            const job = await rig!.t.db.job.findUniqueOrThrow({ where: { id: plannerJobId } });
            return job.lockedBy !== holderId && job;
          },
          { what: "the planner job to be taken over", timeoutMs: 30_000, intervalMs: 50 },
        );
        expect(takenOver.attempts).toBeGreaterThanOrEqual(2);
        // Let the new holder get going before the old one wakes up.
        await sleep(2_000);
      } finally {
        holder.child.kill("SIGCONT");
      }

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      await sleep(SETTLE_MS);
      const result = await report("SIGSTOP of the planner's worker", ended.id);
      expect(isAlive(holder)).toBe(true);
      // The lapsed attempt's end is refused: the planner job was completed by its new holder only.
      const lapsedEnds = logLines(holder, "job succeeded").filter(
        (line) => line.jobId === plannerJobId && line.applied === true,
      );
      expect(lapsedEnds).toEqual([]);
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "1c. a worker frozen (SIGSTOP) mid-unit past its lease: the unit is re-run elsewhere, and the resumed worker's attempt writes nothing",
    async () => {
      rig = await startFaultRig({ name: "faults-stop-unit", users: USERS, dialpadLatencyMs: 120 });
      await startWorkers(["a", "b"]);
      const { cycle } = await rig.startCycle();
      const unit = await unitInFlight(cycle.id);
      const { holderId, holder } = await holderOf(unit.id);
      holder.child.kill("SIGSTOP");
      let mark: WriteMark;
      let held: Job[];
      try {
        held = await rig.t.db.job.findMany({ where: { lockedBy: holderId, status: "running" } });
        expect(held.map((job) => job.id)).toContain(unit.id);
        // Every unit the frozen worker held is re-run to success by the other worker.
        await waitFor(
          async () =>
            (await rig!.t.db.job.count({
              where: { id: { in: held.map((job) => job.id) }, status: "succeeded" },
            })) === held.length,
          { what: "the frozen worker's units to be re-run elsewhere", timeoutMs: 60_000, intervalMs: 50 },
        );
        mark = await markWrites();
      } finally {
        holder.child.kill("SIGCONT");
      }

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      await sleep(SETTLE_MS);
      const result = await report("SIGSTOP of a unit's worker", ended.id);
      for (const job of await rig.t.db.job.findMany({ where: { id: { in: held.map((row) => row.id) } } })) {
        expect(job.attempts).toBeGreaterThanOrEqual(2);
        expect((job.result as { workerId?: string }).workerId).not.toBe(holderId);
      }
      // Fencing: once resumed, the lapsed attempts wrote nothing, neither to Dialpad nor to the database.
      expect(await strayWrites(mark, held)).toEqual({
        dialpadWrites: 0,
        logEntries: 0,
        links: 0,
        jobRows: 0,
      });
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "2. a worker drained (SIGTERM) while it holds units: what it did is logged, the re-run adopts its creates, no false 409 failure",
    async () => {
      rig = await startFaultRig({ name: "faults-drain", users: USERS, dialpadLatencyMs: 120 });
      const graceMs = 300;
      await startWorkers(["a", "b"], { graceMs });
      const { cycle } = await rig.startCycle();
      const unit = await unitInFlight(cycle.id);
      const { holder } = await holderOf(unit.id);
      const sentAt = Date.now();
      holder.child.kill("SIGTERM");
      const exit = await holder.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - sentAt).toBeLessThan(graceMs + 5_000);

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      await sleep(SETTLE_MS);
      const result = await report("SIGTERM drain holding units", ended.id);
      const rerun = await rig.t.db.job.findUniqueOrThrow({ where: { id: unit.id } });
      expect(rerun.status).toBe("succeeded");
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "3a. Dialpad 503 bursts while planning and while units run: no job is lost to a burst, the cycle converges",
    async () => {
      rig = await startFaultRig({ name: "faults-dialpad-503", users: USERS, dialpadLatencyMs: 20 });
      const dialpad = rig.sandbox.dialpad;
      await startWorkers(["a", "b"]);
      const { cycle } = await rig.startCycle();
      const BURST = 15;
      // Planning reads Dialpad's users in pages to match against them: the first burst hits that listing
      // (the planner falls back to a query per user if the listing keeps failing)…
      await waitFor(async () => dialpad.requests.some((request) => request.method === "GET"), {
        what: "the planner's first read of Dialpad",
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      dialpad.configure({ burst5xx: BURST });
      // …the second the first creates of the units, the third the middle of the cycle.
      const posts = () =>
        dialpad.requests.filter((request) => request.method === "POST" && request.status === 201);
      await waitFor(async () => posts().length >= 5, {
        what: "the first creates",
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      dialpad.configure({ burst5xx: BURST });
      await waitFor(async () => posts().length >= 90, {
        what: "half the creates",
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      dialpad.configure({ burst5xx: BURST });

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      const result = await report("Dialpad 503 bursts", ended.id);
      expect(dialpad.requests.filter((request) => request.status === 503)).toHaveLength(3 * BURST);
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "3b. Graph 429 and 503 bursts while the planner reads the directory: the cycle converges",
    async () => {
      rig = await startFaultRig({
        name: "faults-graph-bursts",
        users: USERS,
        dialpadLatencyMs: 20,
        graphLatencyMs: 50,
      });
      const graph = rig.sandbox.graph;
      await startWorkers(["a", "b"]);
      const graphCalls = () => graph.requests.filter((request) => request.path.startsWith("/v1.0"));
      const before = graphCalls().length;
      const { cycle } = await rig.startCycle();
      await waitFor(async () => graphCalls().length >= before + 2, {
        what: "the planner's first Graph reads",
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      graph.configure({ burst429: 5, burst503: 5 });

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      const result = await report("Graph 429/503 bursts", ended.id);
      const statuses = graphCalls().map((request) => request.status);
      expect(statuses.filter((status) => status === 429)).toHaveLength(5);
      expect(statuses.filter((status) => status === 503)).toHaveLength(5);
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "4. a worker SIGKILLed mid-unit: the survivor re-runs its units after the lease and the cycle converges",
    async () => {
      rig = await startFaultRig({ name: "faults-sigkill", users: USERS, dialpadLatencyMs: 120 });
      await startWorkers(["a", "b"]);
      const { cycle } = await rig.startCycle();
      const unit = await unitInFlight(cycle.id);
      const { holderId, holder } = await holderOf(unit.id);
      holder.child.kill("SIGKILL");
      expect((await holder.exited).signal).toBe("SIGKILL");

      const ended = await rig.waitForCycleEnd(cycle.id, 90_000);
      const result = await report("SIGKILL mid-unit", ended.id);
      const rerun = await rig.t.db.job.findUniqueOrThrow({ where: { id: unit.id } });
      expect(rerun).toMatchObject({ status: "succeeded" });
      expect(rerun.attempts).toBeGreaterThanOrEqual(2);
      expect((rerun.result as { workerId?: string }).workerId).not.toBe(holderId);
      expectConverged(result);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
