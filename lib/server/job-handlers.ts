import type { PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import type { JobHandlers, JobLogger } from "../jobs/runner";
import { runOnDemand } from "./on-demand";

/** The handlers a worker process registers, one per job kind it can run. */
export function createJobHandlers(options: { db: PrismaClient; log: JobLogger }): JobHandlers {
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
  };
}
