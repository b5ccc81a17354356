import os from "node:os";
import crypto from "node:crypto";
import pg from "pg";
import type { PrismaClient } from "../db/generated/client";
import { type JobKind, type JobPayloadOf, InvalidPayloadError, parseJobPayload } from "./kind";
import { type JobLease, type RunnerLease, createLease, isLeaseLost } from "./lease";
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
  /** This attempt's lease: every database write of the attempt goes through `lease.fenced`. */
  lease: JobLease;
  /** Bound to the job: its lines carry jobId, kind, connectionId, cycleId and attempt. */
  log: JobLogger;
}

/** What a worker can run: a kind, its handler, and optionally a check that cancels a claimed job unrun. */
export interface JobRegistration<K extends JobKind = JobKind> {
  kind: K;
  handle(payload: JobPayloadOf<K>, context: JobContext): Promise<unknown>;
  /** A reason not to start this job at all (e.g. its cycle is stopping); it is then cancelled unrun. */
  cancelBeforeStart?(job: JobRow): Promise<string | null>;
}

/** Builds a registration with the payload type inferred from the kind. */
export function handles<K extends JobKind>(
  kind: K,
  handle: JobRegistration<K>["handle"],
  options: Pick<JobRegistration<K>, "cancelBeforeStart"> = {},
): JobRegistration {
  return { kind, handle, ...options } as unknown as JobRegistration;
}

export type JobHandlers = readonly JobRegistration[];

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
  readonly #running = new Map<
    string,
    { job: JobRow; lease: RunnerLease; controller: AbortController; done: Promise<void>; ending?: boolean }
  >();
  readonly #registrations: Map<string, JobRegistration>;
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
    this.#registrations = new Map(
      options.handlers.map((registration) => [registration.kind.name, registration]),
    );
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

  /**
   * Stops claiming and waits up to `graceMs` for running jobs. Then it asks the rest to stop (their
   * signal): they stop at the next safe point and record what they did under their still-valid lease,
   * for up to `settleMs`; then it hands them back so another worker continues at once.
   */
  async stop(graceMs = 20_000, settleMs = Math.min(5_000, graceMs)): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#pollTimer);
    await this.#claiming;
    await this.#waitForRunning(Date.now() + graceMs);
    const unfinished = [...this.#running.values()];
    for (const entry of unfinished) entry.controller.abort(new Error("worker shutting down"));
    await this.#waitForRunning(Date.now() + settleMs);
    for (const entry of unfinished) {
      await releaseJob(this.#options.db, { jobId: entry.job.id, token: entry.lease.token }).catch(
        () => undefined,
      );
    }
    clearInterval(this.#heartbeatTimer);
    await this.#listener?.end().catch(() => undefined);
    await this.#options.db.worker
      .update({ where: { id: this.id }, data: { stoppedAt: new Date(), lastSeenAt: new Date() } })
      .catch(() => undefined);
  }

  async #waitForRunning(deadline: number): Promise<void> {
    while (this.#running.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.#running.values()].map((entry) => entry.done)), sleep(100)]);
    }
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
    const claimedAtMs = performance.now();
    const jobs = await claimJobs(this.#options.db, {
      workerId: this.id,
      limit: free,
      leaseSeconds: this.#options.leaseSeconds,
      // Only kinds this worker can run: a worker of an older release, or a test worker, must leave the
      // others to workers that have their handlers instead of failing them.
      kinds: [...this.#registrations.keys()],
    });
    for (const job of jobs) this.#run(job, claimedAtMs);
    // A full batch suggests more work is waiting.
    if (jobs.length === free) this.#claimAgain = true;
  }

  #run(job: JobRow, claimedAtMs: number): void {
    const controller = new AbortController();
    const lease = createLease(this.#options.db, {
      jobId: job.id,
      token: job.leaseToken!,
      leaseSeconds: this.#options.leaseSeconds,
      claimedAtMs,
    });
    const done = this.#execute(job, lease, controller.signal)
      // Recording the outcome failed (database gone): the lease expires and another worker retries it.
      .catch((error: unknown) =>
        this.#options.log.error({ jobId: job.id, err: describeError(error) }, "recording job outcome failed"),
      )
      .finally(() => {
        this.#running.delete(job.id);
        this.#wake();
      });
    this.#running.set(job.id, { job, lease, controller, done });
  }

  async #execute(job: JobRow, lease: RunnerLease, signal: AbortSignal): Promise<void> {
    const { db } = this.#options;
    const attempt = { jobId: job.id, token: lease.token };
    const registration = this.#registrations.get(job.kind);
    const log = bindLogger(this.#options.log, {
      jobId: job.id,
      kind: job.kind,
      connectionId: job.connectionId,
      cycleId: job.cycleId,
      attempt: job.attempts,
    });
    try {
      if (!registration)
        throw new InvalidPayloadError(job.kind, "no handler registered for this kind in this worker");
      if (job.attempts > job.maxAttempts) {
        throw Object.assign(
          new Error(`gave up after ${job.maxAttempts} attempts whose workers stopped responding`),
          { permanent: true },
        );
      }
      const payload = parseJobPayload(registration.kind, job.payload);
      const cancelReason = await registration.cancelBeforeStart?.(job);
      if (cancelReason) {
        const applied = await cancelJob(db, attempt, cancelReason, registration.kind);
        log.info({ applied, reason: cancelReason }, "job not started");
        return;
      }
      log.info({}, "job started");
      const result = await registration.handle(payload, {
        job,
        workerId: this.id,
        signal,
        lease,
        log,
      });
      if (signal.aborted) return;
      this.#markEnding(job.id);
      const applied = await completeJob(db, attempt, result, registration.kind);
      log.info({ applied }, "job succeeded");
    } catch (error) {
      if (signal.aborted) return;
      if (isLeaseLost(error)) {
        log.warn({ err: describeError(error) }, "job attempt stopped: its lease was lost");
        return;
      }
      this.#markEnding(job.id);
      const outcome = await failJob(db, attempt, job, error, {
        retryBaseMs: this.#options.retryBaseMs,
        ...(registration ? { kind: registration.kind } : {}),
      });
      log.warn({ outcome, err: describeError(error) }, "job failed");
    }
  }

  #markEnding(jobId: string): void {
    const entry = this.#running.get(jobId);
    if (entry) entry.ending = true;
  }

  async #beat(): Promise<void> {
    const { db, leaseSeconds, log } = this.#options;
    try {
      const entries = [...this.#running.values()];
      const sentAtMs = performance.now();
      const lost = new Set(
        await heartbeat(
          db,
          entries.map((entry) => ({ jobId: entry.job.id, token: entry.lease.token })),
          leaseSeconds,
        ),
      );
      for (const entry of entries) {
        // Ended while the heartbeat was under way: not lost, just no longer running.
        if (!this.#running.has(entry.job.id) || entry.ending) continue;
        if (!lost.has(entry.job.id)) {
          entry.lease.renewedAt(sentAtMs);
          continue;
        }
        log.warn({ jobId: entry.job.id }, "lease lost; another worker owns this job now");
        entry.lease.lose("the heartbeat found the lease taken or expired");
        entry.controller.abort(new Error("lease lost"));
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
