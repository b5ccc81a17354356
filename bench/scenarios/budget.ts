/**
 * Scenario 2: an initial cycle against Dialpad's 20 requests/second, through production workers
 * (worker/index.ts and its shared request budget). At that rate 100,000 users take hours by physics, so
 * it runs on a bounded sample of the directory and extrapolates.
 */
import { RequestCounter, runCycleToEnd, type RequestTally } from "../measure";
import { userBody } from "../../sandbox/dialpad/testing";
import { spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { describeTally } from "./initial";
import { DIALPAD_REQUESTS_PER_SECOND, round, seconds, type BenchContext } from "./context";

const LATENCY_MS = 5;
const WORKERS = 2;

interface BudgetRun {
  label: string;
  status: string;
  wallMs: number;
  /** The directory's users and groups: what an initial cycle provisions. */
  objects: number;
  created: number;
  updated: number;
  disabled: number;
  failed: number;
  escrows: number;
  accepted: number;
  spanMs: number;
  fraction: number;
  perObject: number;
  tally: RequestTally;
  dialpadUsers: number;
  directoryUsers: number;
}

/**
 * One initial cycle of the sample through production workers. `heldByDialpad` users of the directory
 * (every other one) are put in Dialpad first, with the same userName and other attributes, as a tenant
 * that provisioned by hand before would have them: they must be matched and updated, not created again.
 */
async function budgetRun(context: BenchContext, label: string, holdHalf: boolean): Promise<BudgetRun> {
  const { infra, params, log } = context;
  const { dialpad, graph } = infra.sandbox;
  dialpad.company.reset();
  const directoryUsers = graph.directory.listUsers();
  if (holdHalf)
    directoryUsers
      .filter((_, index) => index % 2 === 0)
      .forEach((user) => dialpad.company.createUser(userBody(user.userPrincipalName)));
  dialpad.configure({
    rateLimit: { requestsPerSecond: DIALPAD_REQUESTS_PER_SECOND },
    latencyMs: LATENCY_MS,
    errorRate: 0,
  });
  const database = await infra.createDatabase(`budget${holdHalf ? "half" : "empty"}`);
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
      onProgress: (cycle) => log(`  ${label}: unit ${cycle.completedUnits}/${cycle.totalUnits}`),
    });
    const tally = counter.stop();
    const spanMs = counter.first !== null && counter.last !== null ? counter.last - counter.first + 1 : NaN;
    const accepted = tally.total - tally.throttled;
    // Per object of the directory: a matched user that needs no change costs nothing and still counts,
    // as a disabled one (matched, then PATCHed active=false) does.
    const objects = directoryUsers.length + graph.directory.listGroups().length;
    return {
      label,
      status: run.cycle.status,
      wallMs: run.wallMs,
      objects,
      created: run.counts.created ?? 0,
      updated: run.counts.updated ?? 0,
      disabled: run.counts.disabled ?? 0,
      failed: run.counts.failed ?? 0,
      escrows: await database.db.escrow.count(),
      accepted,
      spanMs,
      fraction: accepted / ((spanMs / 1000) * DIALPAD_REQUESTS_PER_SECOND),
      // Group member PATCHes are requests of the groups' objects too: everything sent counts.
      perObject: accepted / Math.max(1, objects),
      tally,
      dialpadUsers: dialpad.company.users.size,
      directoryUsers: directoryUsers.length,
    };
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await infra.dropDatabase(database);
  }
}

export async function runBudgetScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params, log } = context;
  const groups = Math.max(12, Math.round(params.budgetUsers / 50));
  log(`seeding the directory with ${params.budgetUsers} users and ${groups} groups`);
  infra.seedGraph(params.budgetUsers, groups);
  const empty = await budgetRun(context, "empty Dialpad", false);
  const half = await budgetRun(context, "Dialpad holding half the users", true);
  const worst = Math.max(empty.perObject, half.perObject);
  const extrapolatedMin =
    (100_000 * empty.perObject) / (DIALPAD_REQUESTS_PER_SECOND * Math.min(1, empty.fraction)) / 60;
  const converged = (run: BudgetRun) =>
    run.status === "succeeded" &&
    run.failed === 0 &&
    run.escrows === 0 &&
    run.dialpadUsers === run.directoryUsers;
  return {
    id: 2,
    title: `Initial cycle under Dialpad's ${DIALPAD_REQUESTS_PER_SECOND} requests/s (sample of ${params.budgetUsers.toLocaleString("en")} users, ${groups} groups)`,
    figure: `${round(empty.perObject, 3)} requests per object (empty Dialpad), ${round(half.perObject, 3)} (half already there); ${round(empty.fraction, 3)} of the budget used; 100,000 users in about ${round(extrapolatedMin)} min`,
    goal: "≤ 1.05 requests per object; ≤ 90 min projected; ≥ 0.9 of the budget, 0 failed",
    met:
      converged(empty) && converged(half) && worst <= 1.05 && extrapolatedMin <= 90 && empty.fraction >= 0.9,
    details: [
      ...[empty, half].flatMap((run) => [
        `${run.label}: cycle ${run.status} in ${seconds(run.wallMs)}; ${run.objects} users and groups in the directory (created ${run.created}, updated ${run.updated}, disabled ${run.disabled}), failed ${run.failed}, escrows left ${run.escrows}; Dialpad holds ${run.dialpadUsers} users for ${run.directoryUsers} in the directory (no duplicate when equal).`,
        `${run.label}: ${run.accepted} requests accepted over ${seconds(run.spanMs)} (${round(run.accepted / (run.spanMs / 1000), 2)} requests/s of ${DIALPAD_REQUESTS_PER_SECOND}, ${round(run.fraction, 3)} of the budget): ${describeTally(run.tally)}; ${round(run.perObject, 3)} requests per user or group of the directory, group member PATCHes included.`,
      ]),
      `Projected initial cycle of 100,000 users at the empty-Dialpad pace: about ${round(extrapolatedMin)} min (the floor at one request per user is ${round(100_000 / DIALPAD_REQUESTS_PER_SECOND / 60)} min).`,
      `${WORKERS} production worker processes (worker/index.ts) sharing the connection's budget through PostgreSQL.`,
    ],
  };
}
