import type { PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import type { JobHandlers, JobLogger } from "../jobs/runner";
import { runOnDemand } from "./on-demand";
import { finalizeProvisioningCycle, runProvisioningCycle, type RunCycleOptions } from "./provisioning-cycle";

/** The handlers a worker process registers, one per job kind it can run. */
export function createJobHandlers(options: {
  db: PrismaClient;
  log: JobLogger;
  /** Overrides for cycles (tests: a faster request rate, a mail catcher). */
  cycle?: Pick<RunCycleOptions, "mailer" | "requestsPerSecond">;
}): JobHandlers {
  const settings = env();
  const box = new SecretBox(loadSecretKey({ secretKey: settings.SECRET_KEY, dataDir: settings.DATA_DIR }));
  return {
    "on-demand": async (payload, { job }) => {
      const results = [];
      for (const subject of payload.subjects) {
        results.push(
          await runOnDemand(options.db, box, {
            connectionId: payload.connectionId,
            objectId: subject.objectId,
            initiatedBy: payload.initiatedBy,
            jobId: job.id,
          }),
        );
      }
      return { results };
    },
    // TODO(units): this job runs the whole cycle; the fan-out into cycle-unit jobs (one per page of
    // objects, then references) goes here, with lib/sync's phases as the units' bodies.
    "provisioning-cycle": async (payload, { job, log }) =>
      runProvisioningCycle(
        options.db,
        box,
        {
          connectionId: payload.connectionId,
          jobId: job.id,
          trigger: payload.trigger,
          dryRun: payload.dryRun,
        },
        { log, ...options.cycle },
      ),
    // Ends the cycle with the counts and quarantine its planner recorded, then queues the next one.
    "cycle-finalize": async (payload) => finalizeProvisioningCycle(options.db, payload.cycleId),
  };
}
