import type { PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import { provisioningPollJob } from "../cycle/continuous";
import { provisioningCycleJob } from "../cycle/schedule";
import { cancelUnitOfStoppedCycle, cycleFinalizeJob, cycleUnitJob } from "../cycle/units";
import { PermanentJobError } from "../jobs/kind";
import { handles, type JobHandlers, type JobLogger } from "../jobs/runner";
import { webhookJob } from "../notify/webhook-events";
import type { PlannedOperation } from "../sync/plan";
import { onDemandJob, runOnDemand } from "./on-demand";
import { planPreviewJob, runPreviewJob } from "./preview";
import { finalizeProvisioningCycle } from "./cycle-end";
import { runCycleUnit } from "./cycle-unit";
import { runPoll } from "./continuous-poll";
import type { PollPacing } from "../sync/change-probe";
import { runProvisioningCycle } from "./provisioning-cycle";
import { type RunCycleOptions } from "./cycle-peers";
import { reconcileJob } from "./reconcile";
import { runReconcile } from "./reconcile-run";
import { runWebhookJob } from "./webhooks";

/** The handlers a worker process registers, one per job kind it can run. */
export function createJobHandlers(options: {
  db: PrismaClient;
  log: JobLogger;
  /** Overrides for cycles (tests: a faster request rate, a mail catcher). */
  cycle?: Pick<RunCycleOptions, "mailer" | "requestsPerSecond" | "unitPageSize">;
  /** Continuous mode's pauses between polls (tests shorten them). */
  pollPacing?: PollPacing;
}): JobHandlers {
  const settings = env();
  const box = new SecretBox(loadSecretKey({ secretKey: settings.SECRET_KEY, dataDir: settings.DATA_DIR }));
  const { db } = options;
  return [
    handles(onDemandJob, async (payload, { job }) => {
      const results = [];
      for (const subject of payload.subjects) {
        results.push(
          await runOnDemand(db, box, {
            connectionId: payload.connectionId,
            subject,
            initiatedBy: payload.initiatedBy,
            jobId: job.id,
            ...(payload.replayOf ? { replayOf: payload.replayOf } : {}),
          }),
        );
      }
      return { results };
    }),
    // "Preview next cycle" (a stored dry run) and applying a reviewed preview.
    handles(planPreviewJob, async (payload) => runPreviewJob(db, box, payload, options.cycle)),
    // The planner: imports and plans the cycle, and runs it whole when it is small; otherwise it fans the
    // user operations out into cycle-unit jobs (pages of RunCycleOptions.unitPageSize) and returns.
    handles(provisioningCycleJob, async (payload, { job, log, lease }) =>
      runProvisioningCycle(
        db,
        box,
        {
          connectionId: payload.connectionId,
          jobId: job.id,
          trigger: payload.trigger,
          dryRun: payload.dryRun,
          ...(payload.changeSeenAt ? { changeSeenAt: new Date(payload.changeSeenAt) } : {}),
        },
        { log, lease, ...options.cycle },
      ),
    ),
    // One page of a fanned-out cycle's user operations, on any worker.
    handles(
      cycleUnitJob,
      async (payload, { job, workerId, log, lease, signal }) => {
        if (payload.phase !== "users")
          throw new PermanentJobError(`unknown cycle unit phase "${payload.phase}"`);
        return runCycleUnit(
          db,
          box,
          {
            connectionId: payload.connectionId,
            cycleId: payload.cycleId,
            jobId: job.id,
            rerun: job.claims > 1,
            workerId,
            operations: (payload.input.operations ?? []) as PlannedOperation[],
          },
          { log, lease, signal, ...options.cycle },
        );
      },
      { cancelBeforeStart: cancelUnitOfStoppedCycle(db) },
    ),
    // Runs once after the last unit: the references of a fanned-out cycle, counts, quarantine, watermark;
    // ends the cycle and queues the next one.
    handles(cycleFinalizeJob, async (payload, { log, lease, job }) =>
      finalizeProvisioningCycle(db, payload.cycleId, {
        box,
        options: { log, lease, ...options.cycle },
        rerun: job.claims > 1,
      }),
    ),
    // Continuous mode: one look at Graph's change feeds; queues a cycle when something changed.
    handles(provisioningPollJob, async (payload, { log, lease }) =>
      runPoll(db, box, payload, { lease, log, ...(options.pollPacing ? { pacing: options.pollPacing } : {}) }),
    ),
    // One attempt at one webhook event; a failure is retried with backoff by the job store.
    handles(webhookJob, async (payload, { job }) =>
      runWebhookJob(db, box, payload, { number: job.attempts, of: job.maxAttempts }),
    ),
    handles(reconcileJob, async (payload, { lease, log }) =>
      runReconcile(db, box, payload, {
        lease,
        log,
        requestsPerSecond: options.cycle?.requestsPerSecond,
        ...(options.cycle?.mailer === undefined ? {} : { mailer: options.cycle.mailer }),
      }),
    ),
  ];
}
