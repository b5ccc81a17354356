/**
 * What the fault tests (test/processes/faults.test.ts) share: the sandbox emulators in this process, a
 * directory of a chosen size, a real PostgreSQL (the run's shared one, or one of the test's own that it
 * may freeze), and real engine worker processes (engine-worker.ts) that can be killed, stopped, resumed
 * and drained with real signals.
 */
import { execFileSync, type ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDatabase } from "@/lib/db/client";
import { startEmbeddedPostgres } from "@/lib/db/embedded-postgres";
import { applyMigrations } from "@/lib/db/migrate";
import type { Cycle, Prisma } from "@/lib/db/generated/client";
import { startProvisioning } from "@/lib/cycle/schedule";
import { seedDirectory } from "@/sandbox/graph/seed";
import type { RunningSandbox } from "@/sandbox/main";
import type { TestDatabase } from "../database";
import { startEngineHarness } from "../engine-harness";
import { waitFor } from "./fixtures";

const script = path.join(import.meta.dirname, "engine-worker.ts");

export interface EngineWorker {
  name: string;
  child: ChildProcess;
  /** Its JobWorker id (`${hostname}:${pid}:…`), once registered. */
  id: Promise<string>;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export interface WorkerSettings {
  leaseSeconds?: number;
  concurrency?: number;
  unitPageSize?: number;
  graceMs?: number;
  /** Continuous mode's pauses between polls: right after a change, and at most when idle. */
  poll?: { fastMs: number; idleMaxMs: number };
}

export interface FaultRig {
  sandbox: RunningSandbox;
  t: TestDatabase;
  connectionId: string;
  workers: EngineWorker[];
  startWorker(name: string, settings?: WorkerSettings): EngineWorker;
  /** Queues a cycle as Start does and returns its Cycle row once the planner has created it. */
  startCycle(): Promise<{ plannerJobId: string; cycle: Cycle }>;
  /** Waits until the cycle is no longer running (or the timeout) and returns its row. */
  waitForCycleEnd(cycleId: string, timeoutMs?: number): Promise<Cycle>;
  /** The worker process whose JobWorker id is `workerId`. */
  workerById(workerId: string): Promise<EngineWorker | undefined>;
  close(): Promise<void>;
}

export const isAlive = (worker: EngineWorker) =>
  worker.child.exitCode === null && worker.child.signalCode === null;

/**
 * A PostgreSQL of the test's own, migrated: freezing it (SIGSTOP) stalls only this test, not the files
 * sharing the run's server. `processes()` finds its server processes by data directory.
 */
export async function startOwnPostgres(): Promise<{
  database: TestDatabase;
  processes(): number[];
  dataDir: string;
}> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioning-faults-pg-"));
  const embedded = await startEmbeddedPostgres({ dataDir, databaseName: "faults" });
  await applyMigrations(embedded.url);
  const db = createDatabase(embedded.url);
  const clusterDir = path.join(dataDir, "postgres");
  return {
    dataDir,
    database: {
      url: embedded.url,
      db,
      async drop() {
        await db.$disconnect();
        await embedded.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    },
    processes() {
      // The postmaster's command line names the data directory; its children are its backends,
      // checkpointer, WAL writer…, which must all stop for the server to be frozen.
      const postmaster = pgrep(["-f", clusterDir]);
      const children = postmaster.flatMap((pid) => pgrep(["-P", String(pid)]));
      return [...new Set([...postmaster, ...children])];
    },
  };
}

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args, { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

export async function startFaultRig(options: {
  name: string;
  users: number;
  database?: TestDatabase;
  dialpadLatencyMs?: number;
  graphLatencyMs?: number;
  connection?: Prisma.ConnectionUpdateInput;
}): Promise<FaultRig> {
  const secretKey = crypto.randomBytes(32);
  const { sandbox, t, connectionId } = await startEngineHarness({
    name: options.name,
    secretKey,
    ...(options.database ? { database: options.database } : {}),
    ...(options.connection ? { connection: options.connection } : {}),
  });
  sandbox.graph.directory.reset();
  seedDirectory(sandbox.graph.directory, { users: options.users });
  sandbox.dialpad.configure({ latencyMs: options.dialpadLatencyMs ?? 0 });
  sandbox.graph.configure({ latencyMs: options.graphLatencyMs ?? 0 });
  const workers: EngineWorker[] = [];

  function startWorker(name: string, settings: WorkerSettings = {}): EngineWorker {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: {
        ...process.env,
        DATABASE_URL: t.url,
        SECRET_KEY: secretKey.toString("base64"),
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
        JOB_LEASE_SECONDS: String(settings.leaseSeconds ?? 5),
        WORKER_CONCURRENCY: String(settings.concurrency ?? 2),
        LOG_LEVEL: "info",
        SANDBOX: "on",
        PROCESS_NAME: name,
        TEST_UNIT_PAGE_SIZE: String(settings.unitPageSize ?? 20),
        TEST_GRACE_MS: String(settings.graceMs ?? 1_000),
        ...(settings.poll
          ? {
              TEST_POLL_FAST_MS: String(settings.poll.fastMs),
              TEST_POLL_IDLE_MAX_MS: String(settings.poll.idleMaxMs),
            }
          : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    let buffered = "";
    let resolveId: (id: string) => void = () => undefined;
    const id = new Promise<string>((resolve) => (resolveId = resolve));
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        if (line.includes('"worker started"')) {
          const workerId = (JSON.parse(line) as { workerId?: string }).workerId;
          if (workerId) resolveId(workerId);
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
      (resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const worker = { name, child, id, output, exited };
    workers.push(worker);
    return worker;
  }

  async function waitForCycleEnd(cycleId: string, timeoutMs = 45_000): Promise<Cycle> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cycle = await t.db.cycle.findUniqueOrThrow({ where: { id: cycleId } });
      if (cycle.status !== "running" || Date.now() > deadline) return cycle;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    sandbox,
    t,
    connectionId,
    workers,
    startWorker,
    async startCycle() {
      const started = await startProvisioning(t.db, connectionId);
      if (!("job" in started)) throw new Error(`no cycle job: ${started.outcome}`);
      const cycle = await waitFor(
        () => t.db.cycle.findFirst({ where: { connectionId, jobId: started.job.id } }),
        { what: "the planner to begin the cycle", timeoutMs: 20_000, intervalMs: 20 },
      );
      return { plannerJobId: started.job.id, cycle };
    },
    waitForCycleEnd,
    async workerById(workerId) {
      for (const worker of workers) if ((await Promise.race([worker.id, "?"])) === workerId) return worker;
      return undefined;
    },
    async close() {
      for (const worker of workers) {
        if (!isAlive(worker)) continue;
        worker.child.kill("SIGCONT");
        worker.child.kill("SIGKILL");
      }
      await Promise.all(workers.map((worker) => worker.exited));
      await sandbox.close();
      await t.drop();
    },
  };
}

/** The log lines of `worker` (JSON, pino) whose msg is `message`. */
export function logLines(worker: EngineWorker, message: string): Record<string, unknown>[] {
  return worker.output
    .filter((line) => line.includes(`"msg":"${message}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
