/**
 * A worker process for scenarios where the target has no rate limit: the wiring of worker/index.ts
 * (worker/process.ts, createJobHandlers) with the one seam such a scenario needs, an in-process limiter
 * at BENCH_REQUESTS_PER_SECOND instead of the shared 20 requests/second budget. Scenarios that measure
 * the budget run worker/index.ts itself.
 */
import { env } from "../lib/config/env";
import { createLogger } from "../lib/log";
import { createJobHandlers } from "../lib/server/job-handlers";
import { runWorkerProcess } from "../worker/process";

const settings = env();
const log = createLogger({ name: process.env.PROCESS_NAME ?? "bench-worker", level: settings.LOG_LEVEL });
const requestsPerSecond = Number(process.env.BENCH_REQUESTS_PER_SECOND);
if (!settings.DATABASE_URL) throw new Error("DATABASE_URL is not set");
if (!(requestsPerSecond > 0)) throw new Error("BENCH_REQUESTS_PER_SECOND must be a positive number");
await runWorkerProcess({
  databaseUrl: settings.DATABASE_URL,
  log,
  concurrency: settings.WORKER_CONCURRENCY,
  leaseSeconds: settings.JOB_LEASE_SECONDS,
  shutdownGraceMs: 5_000,
  createHandlers: (db) => createJobHandlers({ db, log, cycle: { mailer: null, requestsPerSecond } }),
});
