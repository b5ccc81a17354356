/**
 * A worker process. Any number may run, on any number of hosts, against one PostgreSQL: they share
 * work through the job table. SIGTERM (or the launcher going away) drains it gracefully.
 */
import { env } from "../lib/config/env";
import { createDatabase } from "../lib/db/client";
import { applyMigrations } from "../lib/db/migrate";
import { createLogger } from "../lib/log";
import { JobWorker } from "../lib/jobs/runner";
import { createJobHandlers } from "../lib/server/job-handlers";

const settings = env();
const log = createLogger({ name: process.env.PROCESS_NAME ?? "worker", level: settings.LOG_LEVEL });
if (!settings.DATABASE_URL) {
  log.fatal("DATABASE_URL is not set (npm start sets it; a standalone worker needs it)");
  process.exit(2);
}
// Idempotent and serialised by an advisory lock: a worker started on its own host brings the schema up too.
await applyMigrations(settings.DATABASE_URL);
const db = createDatabase(settings.DATABASE_URL, { poolSize: settings.WORKER_CONCURRENCY + 4 });
const worker = new JobWorker({
  db,
  databaseUrl: settings.DATABASE_URL,
  handlers: createJobHandlers({ db, log }),
  log,
  concurrency: settings.WORKER_CONCURRENCY,
  leaseSeconds: settings.JOB_LEASE_SECONDS,
});
await worker.start();
log.info({ workerId: worker.id, concurrency: settings.WORKER_CONCURRENCY }, "worker started");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "worker stopping: no new jobs; finishing or releasing running ones");
  await worker.stop(20_000);
  await db.$disconnect();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("disconnect", () => void shutdown("launcher gone"));
