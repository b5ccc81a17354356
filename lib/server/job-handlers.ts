import type { PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import { PermanentJobError } from "../jobs/definitions";
import type { JobHandlers, JobLogger } from "../jobs/runner";
import { runOnDemand } from "./on-demand";
import { runPreviewJob } from "./preview";
import type { PlannedOperation } from "../sync/plan";
import {
  finalizeProvisioningCycle,
  runCycleUnit,
  runProvisioningCycle,
  type RunCycleOptions,
} from "./provisioning-cycle";
import { runWebhookJob } from "./webhooks";

/** The handlers a worker process registers, one per job kind it can run. */
export function createJobHandlers(options: {
  db: PrismaClient;
  log: JobLogger;
  /** Overrides for cycles (tests: a faster request rate, a mail catcher). */
  cycle?: Pick<RunCycleOptions, "mailer" | "requestsPerSecond" | "unitPageSize">;
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
            subject,
            initiatedBy: payload.initiatedBy,
            jobId: job.id,
            ...(payload.replayOf ? { replayOf: payload.replayOf } : {}),
          }),
        );
      }
      return { results };
    },
    // "Preview next cycle" (a stored dry run) and applying a reviewed preview.
    "plan-preview": async (payload) => runPreviewJob(options.db, box, payload, options.cycle),
    // The planner: imports and plans the cycle, and runs it whole when it is small; otherwise it fans the
    // user operations out into cycle-unit jobs (pages of RunCycleOptions.unitPageSize) and returns.
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
    // One page of a fanned-out cycle's user operations, on any worker.
    "cycle-unit": async (payload, { job, workerId, log }) => {
      if (payload.phase !== "users")
        throw new PermanentJobError(`unknown cycle unit phase "${payload.phase}"`);
      return runCycleUnit(
        options.db,
        box,
        {
          connectionId: payload.connectionId,
          cycleId: payload.cycleId,
          jobId: job.id,
          attempt: job.attempts,
          workerId,
          operations: (payload.input.operations ?? []) as PlannedOperation[],
        },
        { log, ...options.cycle },
      );
    },
    // Runs once after the last unit: the references of a fanned-out cycle, counts, quarantine, watermark;
    // ends the cycle and queues the next one.
    "cycle-finalize": async (payload, { log }) =>
      finalizeProvisioningCycle(options.db, payload.cycleId, { box, options: { log, ...options.cycle } }),
    // One attempt at one webhook event; a failure is retried with backoff by the job store.
    webhook: async (payload, { job }) =>
      runWebhookJob(options.db, box, payload, { number: job.attempts, of: job.maxAttempts }),
  };
}
