import type { PrismaClient } from "../db/generated/client";
import { type JobRow, getJob } from "./store";

export class JobWaitTimeoutError extends Error {
  constructor(
    readonly jobId: string,
    timeoutMs: number,
  ) {
    super(`Job ${jobId} did not finish within ${Math.round(timeoutMs / 1000)} s. Is a worker running?`);
    this.name = "JobWaitTimeoutError";
  }
}

/**
 * Waits for a job to finish by polling its row. A primary-key read every few tens of milliseconds is
 * cheap, and unlike LISTEN it needs no dedicated connection in the web process.
 */
export async function waitForJob(
  db: PrismaClient,
  jobId: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<JobRow> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const job = await getJob(db, jobId);
    if (!job) throw new Error(`Job ${jobId} no longer exists`);
    if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled") return job;
    if (Date.now() > deadline) throw new JobWaitTimeoutError(jobId, timeoutMs);
    options.signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 250);
  }
}
