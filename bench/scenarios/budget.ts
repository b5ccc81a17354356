/**
 * Scenario 2: an initial cycle against Dialpad's 20 requests/second, through production workers
 * (worker/index.ts and its shared request budget). At that rate 100,000 users take hours by physics, so
 * it runs on a bounded sample of the directory and extrapolates.
 */
import { RequestCounter, runCycleToEnd } from "../measure";
import { spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { describeTally } from "./initial";
import { DIALPAD_REQUESTS_PER_SECOND, round, seconds, type BenchContext } from "./context";

const LATENCY_MS = 5;
const WORKERS = 2;

export async function runBudgetScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params, log } = context;
  const { dialpad } = infra.sandbox;
  const groups = Math.max(12, Math.round(params.budgetUsers / 50));
  log(`seeding the directory with ${params.budgetUsers} users and ${groups} groups`);
  infra.seedGraph(params.budgetUsers, groups);
  dialpad.company.reset();
  dialpad.configure({
    rateLimit: { requestsPerSecond: DIALPAD_REQUESTS_PER_SECOND },
    latencyMs: LATENCY_MS,
    errorRate: 0,
  });
  const database = await infra.createDatabase("budget");
  const connectionId = await infra.createConnection(database, { scope: "All" });
  const workers: Child[] = [];
  try {
    for (let index = 0; index < WORKERS; index += 1)
      workers.push(
        spawnWorker(`budget-worker-${index + 1}`, { databaseUrl: database.url, env: infra.childEnv }),
      );
    await Promise.all(workers.map((worker) => worker.ready));
    const counter = new RequestCounter(dialpad.requests);
    counter.start();
    const run = await runCycleToEnd(database.db, connectionId, {
      timeoutMs: params.cycleTimeoutMs,
      onProgress: (cycle) => log(`  rate-limited cycle: unit ${cycle.completedUnits}/${cycle.totalUnits}`),
    });
    const tally = counter.stop();
    const spanMs = counter.first !== null && counter.last !== null ? counter.last - counter.first + 1 : NaN;
    const accepted = tally.total - tally.throttled;
    const fraction = accepted / ((spanMs / 1000) * DIALPAD_REQUESTS_PER_SECOND);
    const failed = run.counts.failed ?? 0;
    const escrows = await database.db.escrow.count();
    const objects = (run.counts.created ?? 0) + (run.counts.updated ?? 0);
    const perObject = accepted / Math.max(1, objects);
    const extrapolatedMin = (100_000 * perObject) / (DIALPAD_REQUESTS_PER_SECOND * fraction) / 60;
    return {
      id: 2,
      title: `Initial cycle under Dialpad's ${DIALPAD_REQUESTS_PER_SECOND} requests/s (sample of ${params.budgetUsers.toLocaleString("en")} users, ${groups} groups)`,
      figure: `${round(fraction, 3)} of the budget used, ${failed} failed objects, ${tally.throttled} × 429`,
      goal: "≥ 0.9 of the budget, 0 failed",
      met: run.cycle.status === "succeeded" && fraction >= 0.9 && failed === 0 && escrows === 0,
      details: [
        `Cycle ${run.cycle.status} in ${seconds(run.wallMs)}; ${objects} objects (created ${run.counts.created ?? 0}), failed ${failed}, escrows left ${escrows}.`,
        `${accepted} requests accepted over ${seconds(spanMs)} from the first to the last request: ${round(accepted / (spanMs / 1000), 2)} requests/s of ${DIALPAD_REQUESTS_PER_SECOND}.`,
        `Dialpad requests: ${describeTally(tally)}.`,
        `${round(perObject, 2)} requests per object in all; at this pace 100,000 users would take about ${round(extrapolatedMin)} min (the floor at one request per user is ${round(100_000 / DIALPAD_REQUESTS_PER_SECOND / 60)} min).`,
        // Against an empty Dialpad nothing is updated, so every PATCH adds group members: the rest is
        // what matching and creating cost (the paged listing of Dialpad, then one POST per object).
        ...((run.counts.updated ?? 0) === 0
          ? [
              `${round((accepted - (tally.byMethod.PATCH ?? 0)) / Math.max(1, objects), 3)} requests per object to match and create them (the listing of Dialpad, then one POST each); the other ${tally.byMethod.PATCH ?? 0} are PATCHes adding group members.`,
            ]
          : []),
        `${WORKERS} production worker processes (worker/index.ts) sharing the connection's budget through PostgreSQL.`,
      ],
    };
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await infra.dropDatabase(database);
  }
}
