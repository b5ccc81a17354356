/**
 * A worker process. Any number may run, on any number of hosts, against one PostgreSQL: they share
 * work through the job table. SIGTERM (or the launcher going away) drains it gracefully.
 */
import { env } from "../lib/config/env";
import { applyMigrations } from "../lib/db/migrate";
import { createLogger } from "../lib/log";
import { handles } from "../lib/jobs/runner";
import { createJobHandlers } from "../lib/server/job-handlers";
import { pruneExpiredData, retentionJob } from "../lib/server/retention";
import { runWorkerProcess } from "./process";

const settings = env();
const log = createLogger({ name: process.env.PROCESS_NAME ?? "worker", level: settings.LOG_LEVEL });
if (!settings.DATABASE_URL) {
  log.fatal("DATABASE_URL is not set (npm start sets it; a standalone worker needs it)");
  process.exit(2);
}
// Idempotent and serialised by an advisory lock: a worker started on its own host brings the schema up too.
await applyMigrations(settings.DATABASE_URL);
await runWorkerProcess({
  databaseUrl: settings.DATABASE_URL,
  log,
  concurrency: settings.WORKER_CONCURRENCY,
  leaseSeconds: settings.JOB_LEASE_SECONDS,
  shutdownGraceMs: 20_000,
  scheduleMaintenance: true,
  createHandlers: (db) => [
    handles(retentionJob, (_payload, { signal, log: jobLog }) =>
      pruneExpiredData(db, { retentionDays: settings.RETENTION_DAYS, signal }).then((pruned) => {
        jobLog.info({ ...pruned, retentionDays: settings.RETENTION_DAYS }, "expired data pruned");
        return pruned;
      }),
    ),
    ...createJobHandlers({ db, log }),
  ],
});
