import os from "node:os";
import crypto from "node:crypto";
import pg from "pg";
import type { PrismaClient } from "../db/generated/client";
import {
  type JobKind,
  type JobPayload,
  InvalidPayloadError,
  isJobKind,
  parseJobPayload,
} from "./definitions";
import { isStopRequested } from "./cycles";
import {
  type JobRow,
  JOBS_CHANNEL,
  claimJobs,
  cancelJob,
  completeJob,
  describeError,
  failJob,
  heartbeat,
  releaseJob,
} from "./store";

export interface JobLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  /** pino's child(): every line the child writes carries `bindings`. */
  child?(bindings: Record<string, unknown>): JobLogger;
}

/** A logger whose lines all carry `bindings` (job, connection and cycle ids), with or without pino. */
export function bindLogger(log: JobLogger, bindings: Record<string, unknown>): JobLogger {
  if (log.child) return log.child(bindings);
  return {
    info: (fields, message) => log.info({ ...bindings, ...fields }, message),
    warn: (fields, message) => log.warn({ ...bindings, ...fields }, message),
    error: (fields, message) => log.error({ ...bindings, ...fields }, message),
    child: (more) => bindLogger(log, { ...bindings, ...more }),
  };
}

export interface JobContext {
  job: JobRow;
  workerId: string;
  /** Aborted when the worker shuts down or loses the job's lease; handlers stop at the next safe point. */
  signal: AbortSignal;
  /** Bound to the job: its lines carry jobId, kind, connectionId, cycleId and attempt. */
  log: JobLogger;
}

export type JobHandler<K extends JobKind> = (payload: JobPayload<K>, context: JobContext) => Promise<unknown>;
export type JobHandlers = { [K in JobKind]?: JobHandler<K> };

export interface WorkerOptions {
  db: PrismaClient;
  databaseUrl: string;
  handlers: JobHandlers;
  log: JobLogger;
  concurrency?: number;
  leaseSeconds?: number;
  pollIntervalMs?: number;
  retryBaseMs?: number;
  workerId?: string;
}

/**
 * A worker process claims jobs from PostgreSQL, runs up to `concurrency` at once, keeps their leases
 * alive, and on stop() claims nothing more, lets running jobs finish within a grace period, and hands
 * back whatever is still running so another worker can take it at once.
 */
export class JobWorker {
  readonly id: string;
  readonly #options: Required<Omit<WorkerOptions, "workerId">>;
  readonly #running = new Map<string, { job: JobRow; controller: AbortController; done: Promise<void> }>();
  #listener: pg.Client | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #claiming: Promise<void> | undefined;
  #claimAgain = false;

  constructor(options: WorkerOptions) {
    this.id = options.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
    this.#options = {
      concurrency: 4,
      leaseSeconds: 60,
      pollIntervalMs: 2_000,
      retryBaseMs: 5_000,
      ...options,
    };
  }

  get runningJobIds(): string[] {
    return [...this.#running.keys()];
  }

  async start(): Promise<void> {
    const { db } = this.#options;
    await db.worker.upsert({
      where: { id: this.id },
      create: { id: this.id, hostname: os.hostname(), pid: process.pid },
      update: { lastSeenAt: new Date(), stoppedAt: null },
    });
    this.#listener = new pg.Client({ connectionString: this.#options.databaseUrl });
    this.#listener.on("notification", () => this.#wake());
    // A lost LISTEN connection only costs latency: polling continues. Reconnect on the next tick.
    this.#listener.on("error", (error) => {
      this.#options.log.warn({ err: describeError(error) }, "job notification connection lost");
      this.#listener = undefined;
    });
    await this.#listener.connect();
    await this.#listener.query(`LISTEN ${JOBS_CHANNEL}`);
    this.#pollTimer = setInterval(() => this.#wake(), this.#options.pollIntervalMs);
    const heartbeatMs = Math.max(1_000, (this.#options.leaseSeconds * 1000) / 3);
    this.#heartbeatTimer = setInterval(() => void this.#beat(), heartbeatMs);
    this.#wake();
  }

  /** Stops claiming, waits up to `graceMs` for running jobs, then releases the rest. */
  async stop(graceMs = 20_000): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#pollTimer);
    await this.#claiming;
    const deadline = Date.now() + graceMs;
    while (this.#running.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.#running.values()].map((entry) => entry.done)), sleep(100)]);
    }
    for (const [jobId, entry] of this.#running) {
      entry.controller.abort(new Error("worker shutting down"));
      await releaseJob(this.#options.db, this.id, jobId).catch(() => undefined);
    }
    clearInterval(this.#heartbeatTimer);
    await this.#listener?.end().catch(() => undefined);
    await this.#options.db.worker
      .update({ where: { id: this.id }, data: { stoppedAt: new Date(), lastSeenAt: new Date() } })
      .catch(() => undefined);
  }

  #wake(): void {
    if (this.#stopping) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = this.#claim()
      .catch((error) => this.#options.log.error({ err: describeError(error) }, "claiming jobs failed"))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#claimAgain) {
          this.#claimAgain = false;
          this.#wake();
        }
      });
  }

  async #claim(): Promise<void> {
    const free = this.#options.concurrency - this.#running.size;
    if (free <= 0 || this.#stopping) return;
    const jobs = await claimJobs(this.#options.db, {
      workerId: this.id,
      limit: free,
      leaseSeconds: this.#options.leaseSeconds,
      // Only kinds this worker can run: a worker of an older release, or a test worker, must leave the
      // others to workers that have their handlers instead of failing them.
      kinds: Object.keys(this.#options.handlers),
    });
    for (const job of jobs) this.#run(job);
    // A full batch suggests more work is waiting.
    if (jobs.length === free) this.#claimAgain = true;
  }

  #run(job: JobRow): void {
    const controller = new AbortController();
    const done = this.#execute(job, controller.signal)
      // Recording the outcome failed (database gone): the lease expires and another worker retries it.
      .catch((error: unknown) =>
        this.#options.log.error({ jobId: job.id, err: describeError(error) }, "recording job outcome failed"),
      )
      .finally(() => {
        this.#running.delete(job.id);
        this.#wake();
      });
    this.#running.set(job.id, { job, controller, done });
  }

  async #execute(job: JobRow, signal: AbortSignal): Promise<void> {
    const { db } = this.#options;
    const log = bindLogger(this.#options.log, {
      jobId: job.id,
      kind: job.kind,
      connectionId: job.connectionId,
      cycleId: job.cycleId,
      attempt: job.attempts,
    });
    try {
      if (!isJobKind(job.kind)) {
        throw new InvalidPayloadError(job.kind, "unknown job kind (written by a newer or older release?)");
      }
      if (job.attempts > job.maxAttempts) {
        throw Object.assign(
          new Error(`gave up after ${job.maxAttempts} attempts whose workers stopped responding`),
          {
            permanent: true,
          },
        );
      }
      const handler = this.#options.handlers[job.kind] as JobHandler<JobKind> | undefined;
      if (!handler)
        throw new InvalidPayloadError(job.kind, "no handler registered for this kind in this worker");
      const payload = parseJobPayload(job.kind, job.payload);
      // Stop cancels queued units, but a unit claimed a moment before, or re-queued for a retry, must not
      // start either: "the running unit finishes, nothing new starts".
      if (job.kind === "cycle-unit" && job.cycleId && (await isStopRequested(db, job.cycleId))) {
        const applied = await cancelJob(db, this.id, job.id, "cancelled: provisioning stopped");
        log.info({ applied }, "unit not started: its cycle is stopping");
        return;
      }
      log.info({}, "job started");
      const result = await handler(payload, { job, workerId: this.id, signal, log });
      if (signal.aborted) return;
      const applied = await completeJob(db, this.id, job.id, result);
      log.info({ applied }, "job succeeded");
    } catch (error) {
      if (signal.aborted) return;
      const outcome = await failJob(db, this.id, job, error, { retryBaseMs: this.#options.retryBaseMs });
      log.warn({ outcome, err: describeError(error) }, "job failed");
    }
  }

  async #beat(): Promise<void> {
    const { db, leaseSeconds, log } = this.#options;
    try {
      const lost = await heartbeat(db, this.id, this.runningJobIds, leaseSeconds);
      for (const jobId of lost) {
        log.warn({ jobId }, "lease lost; another worker owns this job now");
        this.#running.get(jobId)?.controller.abort(new Error("lease lost"));
      }
      await db.worker.update({ where: { id: this.id }, data: { lastSeenAt: new Date() } });
      if (!this.#listener && !this.#stopping) await this.#reconnectListener();
    } catch (error) {
      log.warn({ err: describeError(error) }, "heartbeat failed");
    }
  }

  async #reconnectListener(): Promise<void> {
    const listener = new pg.Client({ connectionString: this.#options.databaseUrl });
    listener.on("notification", () => this.#wake());
    listener.on("error", () => {
      this.#listener = undefined;
    });
    await listener.connect();
    await listener.query(`LISTEN ${JOBS_CHANNEL}`);
    this.#listener = listener;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
