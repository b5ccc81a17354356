/**
 * Scenarios 1, 7, 3 and 4 on one directory and one database, in the order an admin meets them: the
 * initial cycle (throughput, and the workers' peak memory meanwhile), then an incremental cycle with
 * nothing changed, then one with 1 % of the users changed.
 */
import os from "node:os";
import { cpuSnapshot, describeCpu } from "../cpu";
import type { BenchDatabase } from "../infra";
import { RequestCounter, runCycleToEnd, type RequestTally } from "../measure";
import { memoryOf, spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { round, seconds, UNLIMITED_REQUESTS_PER_SECOND, type BenchContext } from "./context";

const LATENCY_MS = 5;

/** Scenario 7's second point: memory that does not grow with the directory is the same at a tenth. */
const MEMORY_REFERENCE_USERS = 10_000;

/** The workers' peak memory (VmHWM) over an initial cycle of `users` users, on a database of its own. */
async function workerPeaksAt(context: BenchContext, users: number, groups: number): Promise<number[]> {
  const { infra, params, log } = context;
  log(`memory reference: an initial cycle of ${users} users and ${groups} groups`);
  infra.seedGraph(users, groups);
  infra.sandbox.dialpad.company.reset();
  infra.sandbox.dialpad.configure({ rateLimit: null, latencyMs: LATENCY_MS, errorRate: 0 });
  const database = await infra.createDatabase("memoryref");
  const connectionId = await infra.createConnection(database, { scope: "All" });
  const workers = Array.from({ length: params.workers }, (_, index) =>
    spawnWorker(`memory-worker-${index + 1}`, {
      databaseUrl: database.url,
      env: infra.childEnv,
      requestsPerSecond: UNLIMITED_REQUESTS_PER_SECOND,
    }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    await runCycleToEnd(database.db, connectionId, { timeoutMs: params.cycleTimeoutMs });
    return workers.map((worker) => memoryOf(worker.process.pid)?.peakMiB ?? NaN);
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await infra.dropDatabase(database);
  }
}

export async function runInitialAndIncremental(context: BenchContext): Promise<ScenarioResult[]> {
  const { infra, params, log } = context;
  const referencePeaks =
    params.users > MEMORY_REFERENCE_USERS
      ? await workerPeaksAt(
          context,
          MEMORY_REFERENCE_USERS,
          Math.max(1, Math.round((params.groups * MEMORY_REFERENCE_USERS) / params.users)),
        )
      : null;
  const { dialpad, graph } = infra.sandbox;
  log(`seeding the directory with ${params.users} users and ${params.groups} groups`);
  infra.seedGraph(params.users, params.groups);
  dialpad.company.reset();
  dialpad.configure({ rateLimit: null, latencyMs: LATENCY_MS, errorRate: 0 });
  const database = await infra.createDatabase("initial");
  // Scope "All": every user and group of the directory is an object of the cycle, so N means N.
  const connectionId = await infra.createConnection(database, { scope: "All" });
  const workers: Child[] = [];
  const results: ScenarioResult[] = [];
  try {
    for (let index = 0; index < params.workers; index += 1) {
      workers.push(
        spawnWorker(`bench-worker-${index + 1}`, {
          databaseUrl: database.url,
          env: infra.childEnv,
          requestsPerSecond: UNLIMITED_REQUESTS_PER_SECOND,
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.ready));

    // ── 1 and 7: the initial cycle ──────────────────────────────────────────────────────────────
    const counter = new RequestCounter(dialpad.requests);
    counter.start();
    const cpu = () =>
      cpuSnapshot({ workerPids: workers.map((worker) => worker.process.pid), pgDataDir: infra.pgDataDir });
    const cpuBefore = cpu();
    const initial = await runCycleToEnd(database.db, connectionId, {
      timeoutMs: params.cycleTimeoutMs,
      onProgress: (cycle) => log(`  initial cycle: unit ${cycle.completedUnits}/${cycle.totalUnits}`),
    });
    const initialRequests = counter.stop();
    const cpuAfter = cpu();
    const peaks = workers.map((worker) => memoryOf(worker.process.pid)?.peakMiB ?? NaN);
    const objects = (initial.counts.created ?? 0) + (initial.counts.updated ?? 0);
    const perSecond = objects / (initial.wallMs / 1000);
    const linked = await countLinks(database);
    const initialFailures = await describeFailures(database, initial.cycle.id);
    results.push({
      id: 1,
      title: `Initial cycle, ${params.users.toLocaleString("en")} users and ${params.groups.toLocaleString("en")} groups, no rate limit, ${LATENCY_MS} ms latency`,
      figure: `${round(perSecond)} objects/s (${objects.toLocaleString("en")} objects in ${seconds(initial.wallMs)})`,
      goal: "≥ 1,000 objects/s",
      met: initial.cycle.status === "succeeded" && perSecond >= 1_000,
      details: [
        `Cycle ${initial.cycle.status}; created ${initial.counts.created ?? 0}, updated ${initial.counts.updated ?? 0}, skipped ${initial.counts.skipped ?? 0}, failed ${initial.counts.failed ?? 0}; members added ${initial.counts.membersAdded ?? 0}.`,
        `Links after the cycle: ${linked.users} users, ${linked.groups} groups, ${linked.members} memberships.`,
        ...initialFailures,
        await describePhases(database, initial.cycle.id),
        describeCpu(cpuBefore, cpuAfter, objects, os.cpus().length),
        `Entra's estimate for an initial cycle (0.01–0.08 min per object) is ${round(objects * 0.01)}–${round(objects * 0.08)} min for this many objects; measured ${round(initial.wallMs / 60_000, 1)} min.`,
        `Dialpad requests: ${describeTally(initialRequests)}.`,
        `${params.workers} worker process(es), concurrency 4 each, in-process limiter lifted (bench/worker.ts).`,
      ],
    });
    const peak = Math.max(...peaks);
    const referencePeak = referencePeaks ? Math.max(...referencePeaks) : null;
    const growth = referencePeak ? peak / referencePeak - 1 : null;
    results.push({
      id: 7,
      title: "Peak resident memory of a worker during scenario 1",
      figure: `${round(peak)} MiB${referencePeak ? ` (${round(referencePeak)} MiB at ${MEMORY_REFERENCE_USERS.toLocaleString("en")} users, ${growth! >= 0 ? "+" : ""}${round(growth! * 100)} %)` : ""}`,
      goal: "< 400 MB, and within 15 % of the peak at 10,000 users",
      met: Number.isFinite(peak) ? peak * 1.048576 < 400 && (growth === null || growth <= 0.15) : null,
      details: [
        `VmHWM of each worker process at the end of the initial cycle: ${peaks.map((p) => `${round(p)} MiB`).join(", ")}.`,
        ...(referencePeaks
          ? [
              `The same cycle at ${MEMORY_REFERENCE_USERS.toLocaleString("en")} users (a database and worker processes of its own): ${referencePeaks.map((p) => `${round(p)} MiB`).join(", ")}.`,
            ]
          : []),
      ],
    });

    // ── 3: incremental, nothing changed ─────────────────────────────────────────────────────────
    const quietCounter = new RequestCounter(dialpad.requests);
    quietCounter.start();
    const quiet = await runCycleToEnd(database.db, connectionId, { timeoutMs: params.cycleTimeoutMs });
    const quietRequests = quietCounter.stop();
    results.push({
      id: 3,
      title: `Incremental cycle at ${params.users.toLocaleString("en")} users, no change`,
      figure: `${seconds(quiet.wallMs)}, ${quietRequests.writes} writes (${quietRequests.total} requests)`,
      goal: "< 20 s and 0 writes",
      met: quiet.cycle.status === "succeeded" && quiet.wallMs < 20_000 && quietRequests.writes === 0,
      details: [
        `Cycle ${quiet.cycle.status} (${quiet.cycle.type}); Dialpad requests: ${describeTally(quietRequests)}.`,
        ...(await describeChanges(database, quiet.cycle.id)),
      ],
    });

    // ── 4: incremental, 1 % of users changed ────────────────────────────────────────────────────
    const changed = graph.directory
      .listUsers()
      .filter((user) => user.accountEnabled)
      .filter((_, index) => index % 100 === 0);
    for (const user of changed)
      graph.directory.updateUser(user.id, { jobTitle: `Benchmark ${user.jobTitle ?? "Role"}` });
    const changeCounter = new RequestCounter(dialpad.requests);
    changeCounter.start();
    const changedCycle = await runCycleToEnd(database.db, connectionId, { timeoutMs: params.cycleTimeoutMs });
    const changedRequests = changeCounter.stop();
    const patches = changedRequests.byMethod.PATCH ?? 0;
    results.push({
      id: 4,
      title: `Incremental cycle with 1 % of users changed (${changed.length.toLocaleString("en")} users)`,
      figure: `${seconds(changedCycle.wallMs)}, ${patches} PATCH for ${changed.length} changed users (${changedRequests.total} requests)`,
      goal: "one PATCH per changed user",
      met:
        changedCycle.cycle.status === "succeeded" &&
        patches === changed.length &&
        changedRequests.writes === changed.length,
      details: [
        `Cycle ${changedCycle.cycle.status}; updated ${changedCycle.counts.updated ?? 0}, failed ${changedCycle.counts.failed ?? 0}.`,
        `Dialpad requests: ${describeTally(changedRequests)}.`,
      ],
    });
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await infra.dropDatabase(database);
  }
  return results;
}

export function describeTally(tally: RequestTally): string {
  const methods = Object.entries(tally.byMethod)
    .map(([method, count]) => `${method} ${count}`)
    .join(", ");
  return `${tally.total} in all (${methods || "none"}; ${tally.throttled} answered 429, ${tally.serverErrors} 5xx)`;
}

async function countLinks(database: BenchDatabase) {
  const rows = await database.db.objectLink.groupBy({ by: ["objectType"], _count: true });
  const of = (type: string) => rows.find((row) => row.objectType === type)?._count ?? 0;
  return { users: of("User"), groups: of("Group"), members: of("GroupMember") };
}

/** Why objects failed in a cycle: error codes with counts and one reason each. */
async function describeFailures(database: BenchDatabase, cycleId: string): Promise<string[]> {
  const rows = await database.db.provisioningLog.findMany({
    where: { cycleId, status: "Failure" },
    select: { errorCode: true, errorReason: true, sourceDisplayName: true },
    take: 1_000,
  });
  const byCode = new Map<string, { count: number; example: string }>();
  for (const row of rows) {
    const code = row.errorCode ?? "unknown";
    const entry = byCode.get(code) ?? {
      count: 0,
      example: `${row.sourceDisplayName ?? "?"}: ${row.errorReason ?? ""}`,
    };
    entry.count += 1;
    byCode.set(code, entry);
  }
  return [...byCode].map(
    ([code, { count, example }]) => `Failed: ${count} × ${code} (e.g. ${example.slice(0, 200)}).`,
  );
}

/** What a cycle changed, from its provisioning log: action and status with counts. */
async function describeChanges(database: BenchDatabase, cycleId: string): Promise<string[]> {
  const rows = await database.db.provisioningLog.groupBy({
    by: ["objectType", "action", "status"],
    where: { cycleId, NOT: { action: "Other", status: "Skipped" } },
    _count: true,
  });
  if (rows.length === 0) return ["Its log holds no change."];
  return [
    `Its log: ${rows.map((row) => `${row._count} × ${row.objectType} ${row.action} ${row.status}`).join(", ")}.`,
  ];
}

/** Where a fanned-out cycle's time went: the planner job, the span of its units, and the finalizer. */
export async function describePhases(database: BenchDatabase, cycleId: string): Promise<string> {
  const cycle = await database.db.cycle.findUniqueOrThrow({
    where: { id: cycleId },
    select: { jobId: true },
  });
  const jobs = await database.db.job.findMany({
    where: { OR: [{ cycleId }, ...(cycle.jobId ? [{ id: cycle.jobId }] : [])] },
    select: { kind: true, startedAt: true, finishedAt: true },
  });
  const span = (kind: string) => {
    const of = jobs.filter((job) => job.kind === kind && job.startedAt && job.finishedAt);
    if (of.length === 0) return null;
    const start = Math.min(...of.map((job) => job.startedAt!.getTime()));
    const end = Math.max(...of.map((job) => job.finishedAt!.getTime()));
    const busy = of.reduce((sum, job) => sum + (job.finishedAt!.getTime() - job.startedAt!.getTime()), 0);
    return { count: of.length, wall: end - start, busy };
  };
  const parts = [
    ["planner (import, lookups, queuing)", span("provisioning-cycle")],
    ["units", span("cycle-unit")],
    ["finalizer (groups, members)", span("cycle-finalize")],
  ] as const;
  return `Phases: ${parts
    .map(([name, phase]) =>
      phase
        ? `${name} ${seconds(phase.wall)}${phase.count > 1 ? ` (${phase.count} jobs, ${seconds(phase.busy)} of job time)` : ""}`
        : `${name} —`,
    )
    .join("; ")}.`;
}
