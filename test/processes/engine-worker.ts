/**
 * A real worker process running the real provisioning engine, for test/engine-crash.test.ts: the wiring of
 * worker/index.ts (worker/process.ts, createJobHandlers) with the one seam a test needs, cycle options
 * (small unit pages so a cycle has many units, no e-mail, no request pacing). Settings come from the
 * same environment variables as worker/index.ts, plus TEST_UNIT_PAGE_SIZE, TEST_GRACE_MS (SIGTERM grace) and
 * TEST_POLL_FAST_MS / TEST_POLL_IDLE_MAX_MS (continuous mode's pauses between polls).
 */
import { env } from "../../lib/config/env";
import { createLogger } from "../../lib/log";
import { createJobHandlers } from "../../lib/server/job-handlers";
import { runWorkerProcess } from "../../worker/process";

const settings = env();
const log = createLogger({ name: process.env.PROCESS_NAME ?? "engine-worker", level: settings.LOG_LEVEL });
if (!settings.DATABASE_URL) throw new Error("DATABASE_URL is not set");
await runWorkerProcess({
  databaseUrl: settings.DATABASE_URL,
  log,
  concurrency: settings.WORKER_CONCURRENCY,
  leaseSeconds: settings.JOB_LEASE_SECONDS,
  shutdownGraceMs: Number(process.env.TEST_GRACE_MS ?? 1_000),
  pollIntervalMs: 100,
  retryBaseMs: 100,
  createHandlers: (db) =>
    createJobHandlers({
      db,
      log,
      cycle: {
        mailer: null,
        requestsPerSecond: 1_000,
        unitPageSize: Number(process.env.TEST_UNIT_PAGE_SIZE ?? 10),
      },
      ...(process.env.TEST_POLL_IDLE_MAX_MS
        ? {
            pollPacing: {
              fastMs: Number(process.env.TEST_POLL_FAST_MS ?? 200),
              idleMaxMs: Number(process.env.TEST_POLL_IDLE_MAX_MS),
              factor: 1.5,
            },
          }
        : {}),
    }),
});
