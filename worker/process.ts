import type { Logger } from "pino";
import { createDatabase } from "../lib/db/client";
import { describeError } from "../lib/jobs/store";
import { settleStalledCycles } from "../lib/cycle/units";
import { enqueueDailyPrune } from "../lib/server/retention";
import { JobWorker, type JobHandlers } from "../lib/jobs/runner";
import { startScimExchangeFlusher } from "../lib/metrics/scim-exchanges";
import type { PrismaClient } from "../lib/db/generated/client";

export interface WorkerProcessOptions {
  databaseUrl: string;
  log: Logger;
  createHandlers: (db: PrismaClient) => JobHandlers;
  concurrency: number;
  leaseSeconds: number;
  /** On SIGTERM, running jobs get this long to finish before they are handed back. */
  shutdownGraceMs: number;
  pollIntervalMs?: number;
  retryBaseMs?: number;
  /** Enqueue the daily retention job (all production workers do; the dedupe key keeps it to one). */
  scheduleMaintenance?: boolean;
}

/**
 * Runs a worker process until SIGTERM/SIGINT or the launcher's IPC channel closes: then it claims
 * nothing more, lets running jobs finish for `shutdownGraceMs`, hands back the rest (another worker
 * takes them at once rather than after the lease), flushes its SCIM counters and exits. A hard deadline
 * a few seconds after the grace bounds the exit even if the database stops answering.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<JobWorker> {
  const { log } = options;
  const db = createDatabase(options.databaseUrl, {
    poolSize: options.concurrency + 4,
    // Well inside the lease: a frozen holder's locks are gone before its lease would let another take over.
    idleInTransactionTimeoutMs: Math.min(10_000, (options.leaseSeconds * 1000) / 2),
  });
  const worker = new JobWorker({
    db,
    databaseUrl: options.databaseUrl,
    handlers: options.createHandlers(db),
    log,
    concurrency: options.concurrency,
    leaseSeconds: options.leaseSeconds,
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.retryBaseMs ? { retryBaseMs: options.retryBaseMs } : {}),
  });
  const flusher = startScimExchangeFlusher(db, {
    onError: (error) => log.warn({ err: describeError(error) }, "writing SCIM request counts failed"),
  });
  let maintenanceTimer: NodeJS.Timeout | undefined;
  let stalledCycleTimer: NodeJS.Timeout | undefined;
  if (options.scheduleMaintenance) {
    const enqueuePrune = () =>
      enqueueDailyPrune(db)
        .then((job) => job && log.info({ jobId: job.id }, "daily retention job queued"))
        .catch((error: unknown) =>
          log.warn({ err: describeError(error) }, "queueing the retention job failed"),
        );
    void enqueuePrune();
    maintenanceTimer = setInterval(() => void enqueuePrune(), 60 * 60_000);
    maintenanceTimer.unref();
    stalledCycleTimer = setInterval(
      () =>
        void settleStalledCycles(db)
          .then(
            (cycles) =>
              cycles.length &&
              log.warn({ cycles }, "cycles whose units had all ended were not finalized; finalizers queued"),
          )
          .catch((error: unknown) =>
            log.warn({ err: describeError(error) }, "looking for stalled cycles failed"),
          ),
      60_000,
    );
    stalledCycleTimer.unref();
  }
  await worker.start();
  log.info({ workerId: worker.id, concurrency: options.concurrency }, "worker started");

  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info(
      { reason, graceMs: options.shutdownGraceMs },
      "worker stopping: no new jobs; finishing or releasing running ones",
    );
    setTimeout(() => {
      log.error({}, "worker did not stop in time; exiting");
      process.exit(1);
    }, options.shutdownGraceMs + 10_000).unref();
    clearInterval(maintenanceTimer);
    clearInterval(stalledCycleTimer);
    await worker.stop(options.shutdownGraceMs);
    await flusher.stop();
    await db.$disconnect();
    log.info({ workerId: worker.id }, "worker stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("disconnect", () => void shutdown("launcher gone"));
  return worker;
}
