/**
 * Scenario 8: the same initial cycle with one worker process and with three, on one PostgreSQL, against
 * a target that answers in 50 ms, where the work is waiting on the target rather than on the CPU.
 */
import os from "node:os";
import { cpuSnapshot, describeCpu } from "../cpu";
import { runCycleToEnd } from "../measure";
import { describePhases } from "./initial";
import { spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { round, seconds, UNLIMITED_REQUESTS_PER_SECOND, type BenchContext } from "./context";

const LATENCY_MS = 50;

export async function runScaleOutScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params, log } = context;
  const groups = 12;
  log(`seeding the directory with ${params.scaleUsers} users and ${groups} groups`);
  infra.seedGraph(params.scaleUsers, groups);
  const runs: {
    workers: number;
    perSecond: number;
    wallMs: number;
    objects: number;
    status: string;
    phases: string;
  }[] = [];
  for (const workerCount of [1, 3]) {
    const { dialpad } = infra.sandbox;
    dialpad.company.reset();
    dialpad.configure({ rateLimit: null, latencyMs: LATENCY_MS, errorRate: 0 });
    const database = await infra.createDatabase(`scale${workerCount}`);
    const connectionId = await infra.createConnection(database, { scope: "All" });
    const workers: Child[] = [];
    try {
      for (let index = 0; index < workerCount; index += 1) {
        workers.push(
          spawnWorker(`scale-worker-${index + 1}`, {
            databaseUrl: database.url,
            env: infra.childEnv,
            requestsPerSecond: UNLIMITED_REQUESTS_PER_SECOND,
          }),
        );
      }
      await Promise.all(workers.map((worker) => worker.ready));
      const cpu = () =>
        cpuSnapshot({ workerPids: workers.map((worker) => worker.process.pid), pgDataDir: infra.pgDataDir });
      const cpuBefore = cpu();
      const run = await runCycleToEnd(database.db, connectionId, { timeoutMs: params.cycleTimeoutMs });
      const cpuAfter = cpu();
      const objects = (run.counts.created ?? 0) + (run.counts.updated ?? 0);
      runs.push({
        workers: workerCount,
        perSecond: objects / (run.wallMs / 1000),
        wallMs: run.wallMs,
        objects,
        status: run.cycle.status,
        phases: `${await describePhases(database, run.cycle.id)} ${describeCpu(cpuBefore, cpuAfter, objects, os.cpus().length)}`,
      });
      log(`  ${workerCount} worker(s): ${objects} objects in ${seconds(run.wallMs)}; ${runs.at(-1)!.phases}`);
    } finally {
      await Promise.all(workers.map((worker) => stopChild(worker)));
      await infra.dropDatabase(database);
    }
  }
  const [one, three] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const ratio = three.perSecond / one.perSecond;
  return {
    id: 8,
    title: `Scale-out: 1 vs 3 workers, ${params.scaleUsers.toLocaleString("en")} users, ${LATENCY_MS} ms target latency`,
    figure: `${round(ratio, 2)}× (${round(one.perSecond, 1)} → ${round(three.perSecond, 1)} objects/s)`,
    goal: "≥ 2.5×",
    met: one.status === "succeeded" && three.status === "succeeded" && ratio >= 2.5,
    details: runs.map(
      (run) =>
        `${run.workers} worker process(es), concurrency 4 each: ${run.objects} objects in ${seconds(run.wallMs)} (cycle ${run.status}). ${run.phases}`,
    ),
  };
}
