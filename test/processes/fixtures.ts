import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Database } from "../../lib/db/client";
import { beginCycle, enqueueCycleUnits, type CycleUnitInput } from "../../lib/cycle/units";
import { provisioningCycleJob, startProvisioning } from "../../lib/cycle/schedule";
import { completeJob, type JobRow } from "../../lib/jobs/store";

/** Claims one particular job as claimJobs would (tests share a database across connections). */
export async function claimJobById(db: Database, jobId: string, workerId: string): Promise<JobRow> {
  const [job] = await db.$queryRaw<JobRow[]>`
    UPDATE "Job" SET status = 'running', "lockedBy" = ${workerId}, "lockedAt" = now(), attempts = attempts + 1,
      claims = claims + 1, "leaseToken" = gen_random_uuid(),
      "leaseExpiresAt" = now() + interval '60 seconds', "startedAt" = COALESCE("startedAt", now()), "updatedAt" = now()
    WHERE id = ${jobId}::uuid AND status = 'queued'
    RETURNING *`;
  if (!job) throw new Error(`job ${jobId} is not queued`);
  return job;
}

/**
 * Plays the engine's planner: Start queues the cycle job, this claims it, begins the cycle, enqueues the
 * units and completes the planner job (which seals the cycle, exactly as a real planner's end does).
 */
export async function runPlanner(
  db: Database,
  connectionId: string,
  units: CycleUnitInput[],
): Promise<{ cycleId: string; unitJobIds: string[] }> {
  const started = await startProvisioning(db, connectionId);
  if (started.outcome !== "queued" && started.outcome !== "moved-to-now") {
    throw new Error(`Start did not queue a cycle: ${started.outcome}`);
  }
  const planner = await claimJobById(db, started.job.id, "test-planner");
  const begun = await beginCycle(db, { connectionId, jobId: planner.id, type: "initial", trigger: "start" });
  if (!begun.started) throw new Error(`cycle not started: ${begun.reason}`);
  const enqueued = await enqueueCycleUnits(db, begun.cycle.id, units);
  if (!enqueued.accepted) throw new Error(`units refused: ${enqueued.reason}`);
  await completeJob(
    db,
    { jobId: planner.id, token: planner.leaseToken! },
    { units: units.length },
    provisioningCycleJob,
  );
  return { cycleId: begun.cycle.id, unitJobIds: enqueued.jobIds };
}

export interface WorkerChild {
  name: string;
  child: ChildProcess;
  /** The JobWorker id it logged at start. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  output: string[];
}

const script = path.join(import.meta.dirname, "test-worker.ts");

/** Starts test-worker.ts as a real OS process: `node --import tsx`. */
export function spawnWorker(
  databaseUrl: string,
  name: string,
  options: { concurrency?: number; leaseSeconds?: number; graceMs?: number } = {},
): WorkerChild {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEST_WORKER_NAME: name,
      TEST_CONCURRENCY: String(options.concurrency ?? 2),
      TEST_LEASE_SECONDS: String(options.leaseSeconds ?? 2),
      TEST_GRACE_MS: String(options.graceMs ?? 1_000),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; workerId?: string };
          if (entry.msg === "worker started" && entry.workerId) resolve(entry.workerId);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("exit", (code) =>
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output.join("\n")}`)),
    );
  });
  ready.catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { name, child, ready, exited, output };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "condition"}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
