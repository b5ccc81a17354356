/**
 * A real worker process for test/processes/*.test.ts: the production process wiring (worker/process.ts:
 * claiming, leases, SIGTERM drain) with handlers that stand in for the provisioning engine. Each unit
 * waits `input.sleepMs` (I/O) and writes "started"/"finished" rows to test_unit_runs, which the tests
 * count to prove exactly-once execution. Only this script registers these handlers, so nothing like
 * them can run in production.
 */
import { z } from "zod";
import { createLogger } from "../../lib/log";
import { finishCycle } from "../../lib/cycle/schedule";
import { cancelUnitOfStoppedCycle, cycleFinalizeJob, cycleUnitJob } from "../../lib/cycle/units";
import { handles } from "../../lib/jobs/runner";
import { runWorkerProcess } from "../../worker/process";

const settings = z
  .object({
    DATABASE_URL: z.string().url(),
    TEST_WORKER_NAME: z.string(),
    TEST_CONCURRENCY: z.coerce.number().int().min(1),
    TEST_LEASE_SECONDS: z.coerce.number().min(1),
    TEST_GRACE_MS: z.coerce.number().int().min(0),
  })
  .parse(process.env);

const ZUnitInput = z.object({ sleepMs: z.number().int().min(0), ignoreAbort: z.boolean().default(false) });

const log = createLogger({ name: settings.TEST_WORKER_NAME, level: "info" });
await runWorkerProcess({
  databaseUrl: settings.DATABASE_URL,
  log,
  concurrency: settings.TEST_CONCURRENCY,
  leaseSeconds: settings.TEST_LEASE_SECONDS,
  shutdownGraceMs: settings.TEST_GRACE_MS,
  pollIntervalMs: 200,
  retryBaseMs: 100,
  createHandlers: (db) => [
    handles(
      cycleUnitJob,
      async (payload, { job, workerId, signal }) => {
        const input = ZUnitInput.parse(payload.input);
        await db.$executeRaw`INSERT INTO test_unit_runs (job_id, worker, event) VALUES (${job.id}::uuid, ${workerId}, 'started')`;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, input.sleepMs);
          if (!input.ignoreAbort) {
            signal.addEventListener("abort", () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            });
          }
        });
        await db.$executeRaw`INSERT INTO test_unit_runs (job_id, worker, event) VALUES (${job.id}::uuid, ${workerId}, 'finished')`;
        return { unitIndex: payload.unitIndex };
      },
      { cancelBeforeStart: cancelUnitOfStoppedCycle(db) },
    ),
    handles(cycleFinalizeJob, async (payload, { job, workerId }) => {
      await db.$executeRaw`INSERT INTO test_unit_runs (job_id, worker, event) VALUES (${job.id}::uuid, ${workerId}, 'finalized')`;
      return finishCycle(db, payload.cycleId);
    }),
  ],
});
