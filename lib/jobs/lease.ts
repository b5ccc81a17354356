import type { Prisma, PrismaClient } from "../db/generated/client";

/**
 * Fencing of a job attempt (M. Kleppmann's fencing tokens). A lease-based queue can have two attempts of
 * one job alive at once: the first one's process was only paused (GC, a stopped VM, a frozen database
 * connection), its lease expired and another worker claimed the job. Every claim gets a new token, and
 * whatever an attempt writes goes through `fenced`, which checks the token under a lock on the job row
 * in the same transaction: an attempt that lost its lease can change nothing. Writes outside the
 * database (a request to Dialpad) cannot be fenced; `assertHeld` stops an attempt before such a write
 * once its own clock says the lease may have lapsed, and the engine matches before it creates, so a
 * retry adopts what a lapsed attempt created.
 */
export interface JobLease {
  readonly jobId: string;
  readonly token: string;
  /** Throws LeaseLostError when this attempt can no longer be sure it holds the job. */
  assertHeld(): void;
  /** True while `assertHeld` would not throw. */
  readonly held: boolean;
  fenced<T>(work: (tx: Prisma.TransactionClient) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
}

export class LeaseLostError extends Error {
  readonly leaseLost = true;
  constructor(jobId: string, why: string) {
    super(`Job ${jobId}: this attempt no longer holds the job's lease (${why}); its writes are refused.`);
    this.name = "LeaseLostError";
  }
}

export function isLeaseLost(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { leaseLost?: unknown }).leaseLost === true;
}

/** The runner's side of a lease: it renews the local deadline after each heartbeat, or marks it lost. */
export interface RunnerLease extends JobLease {
  renewedAt(sentAtMs: number): void;
  lose(why: string): void;
}

/**
 * @param claimedAtMs performance.now() when the claim was sent: the database's expiry is at least the
 *   lease length after it, so a local deadline counted from it never outlives the real lease.
 */
export function createLease(
  db: PrismaClient,
  options: { jobId: string; token: string; leaseSeconds: number; claimedAtMs: number },
): RunnerLease {
  const { jobId, token } = options;
  const leaseMs = options.leaseSeconds * 1000;
  let deadline = options.claimedAtMs + leaseMs;
  let lostBecause: string | null = null;
  const reason = () =>
    lostBecause ?? (performance.now() >= deadline ? "its lease expired before it was renewed" : null);
  return {
    jobId,
    token,
    get held() {
      return reason() === null;
    },
    assertHeld() {
      const why = reason();
      if (why) throw new LeaseLostError(jobId, why);
    },
    renewedAt(sentAtMs) {
      deadline = Math.max(deadline, sentAtMs + leaseMs);
    },
    lose(why) {
      lostBecause ??= why;
    },
    async fenced(work, fencedOptions = {}) {
      const why = reason();
      if (why) throw new LeaseLostError(jobId, why);
      return db.$transaction(
        async (tx) => {
          // FOR SHARE: concurrent writes of this attempt proceed together, while a claim by another worker
          // (an UPDATE of this row) waits until they commit, so nothing of ours lands after a takeover.
          const rows = await tx.$queryRaw<{ ok: number }[]>`
            SELECT 1 AS ok FROM "Job"
            WHERE id = ${jobId}::uuid AND "leaseToken" = ${token}::uuid AND status = 'running'
              AND "leaseExpiresAt" > now()
            FOR SHARE`;
          if (rows.length === 0) {
            lostBecause ??= "another attempt holds it, or it ended";
            throw new LeaseLostError(jobId, lostBecause);
          }
          return work(tx);
        },
        { timeout: fencedOptions.timeoutMs ?? 30_000, maxWait: 10_000 },
      );
    },
  };
}
