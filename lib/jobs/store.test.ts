import { z } from "zod";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { defineJobKind } from "./kind";
import { createLease, isLeaseLost } from "./lease";
import { handles, JobWorker, type JobLogger } from "./runner";
import {
  claimJobs,
  completeJob,
  enqueueJob,
  failJob,
  getJob,
  heartbeat,
  releaseJob,
  type JobRow,
} from "./store";
import { waitForJob } from "./wait";

const silent: JobLogger = { info() {}, warn() {}, error() {} };
let t: TestDatabase;

const ends: { jobId: string; status: string }[] = [];
/** A kind of this test only: the store must work for any kind its owner declares. */
const chore = defineJobKind("test-chore", z.object({ task: z.enum(["sweep", "dust"]) }).strict(), {
  onEnd: async (tx, end) => {
    // Written in the ending transaction: visible if and only if the job's end committed.
    await tx.$executeRaw`INSERT INTO test_job_ends (job_id, status) VALUES (${end.jobId}::uuid, ${end.status})`;
    ends.push(end);
  },
});
const kinds = [chore.name];
const attempt = (job: JobRow) => ({ jobId: job.id, token: job.leaseToken! });

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.$executeRawUnsafe(`CREATE TABLE test_job_ends (job_id uuid, status text)`);
  await t.db.$executeRawUnsafe(`CREATE TABLE test_fenced_writes (job_id uuid, token uuid)`);
});
afterAll(async () => t.drop());

describe("job store", () => {
  test("three workers run 60 jobs exactly once each", async () => {
    const runs = new Map<string, number>();
    const workers = [1, 2, 3].map(
      (n) =>
        new JobWorker({
          db: t.db,
          databaseUrl: t.url,
          log: silent,
          concurrency: 4,
          pollIntervalMs: 50,
          workerId: `w${n}`,
          handlers: [
            handles(chore, async (_payload, { job }) => {
              runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
              await new Promise((resolve) => setTimeout(resolve, 5));
              return { by: job.lockedBy };
            }),
          ],
        }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) ids.push((await enqueueJob(t.db, chore, { task: "sweep" })).job.id);
    await Promise.all(workers.map((worker) => worker.start()));
    const finished = await Promise.all(ids.map((id) => waitForJob(t.db, id, { timeoutMs: 20_000 })));
    await Promise.all(workers.map((worker) => worker.stop()));

    expect(finished.every((job) => job.status === "succeeded")).toBe(true);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(60);
    expect(new Set(finished.map((job) => (job.result as { by: string }).by)).size).toBeGreaterThan(1);
    const [row] = await t.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM test_job_ends WHERE job_id = ANY(${ids}::uuid[]) AND status = 'succeeded'`;
    expect(row?.n).toBe(60);
  });

  test("a job whose worker froze is reclaimed after its lease; the frozen attempt can change nothing", async () => {
    const { job } = await enqueueJob(t.db, chore, { task: "sweep" });
    const [first] = await claimJobs(t.db, { workerId: "frozen", limit: 1, leaseSeconds: 1, kinds });
    expect(first?.id).toBe(job.id);
    const frozenLease = createLease(t.db, {
      jobId: job.id,
      token: first!.leaseToken!,
      leaseSeconds: 1,
      claimedAtMs: performance.now(),
    });
    await frozenLease.fenced(
      (tx) =>
        tx.$executeRaw`INSERT INTO test_fenced_writes VALUES (${job.id}::uuid, ${first!.leaseToken}::uuid)`,
    );
    expect(await claimJobs(t.db, { workerId: "other", limit: 1, leaseSeconds: 30, kinds })).toHaveLength(0);

    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // The frozen process's own clock already says its lease may have lapsed: it stops before writing.
    expect(frozenLease.held).toBe(false);
    const [second] = await claimJobs(t.db, { workerId: "other", limit: 1, leaseSeconds: 30, kinds });
    expect(second).toMatchObject({ id: job.id, attempts: 2, claims: 2 });
    expect(second!.leaseToken).not.toBe(first!.leaseToken);

    // Even a lapsed attempt whose clock is wrong is refused by the database: its token is not current.
    const lyingLease = createLease(t.db, {
      jobId: job.id,
      token: first!.leaseToken!,
      leaseSeconds: 60,
      claimedAtMs: performance.now(),
    });
    const refused = await lyingLease
      .fenced(
        (tx) =>
          tx.$executeRaw`INSERT INTO test_fenced_writes VALUES (${job.id}::uuid, ${first!.leaseToken}::uuid)`,
      )
      .catch((error: unknown) => error);
    expect(isLeaseLost(refused)).toBe(true);
    expect(await heartbeat(t.db, [attempt(first!)], 30)).toEqual([job.id]);
    expect(await completeJob(t.db, attempt(first!), {}, chore)).toBe(false);
    expect(await failJob(t.db, attempt(first!), first!, new Error("late"), { kind: chore })).toBe("lost");
    expect(await releaseJob(t.db, attempt(first!))).toBe(false);

    expect(await completeJob(t.db, attempt(second!), { ok: true }, chore)).toBe(true);
    const writes = await t.db.$queryRaw<
      { token: string }[]
    >`SELECT token::text FROM test_fenced_writes WHERE job_id = ${job.id}::uuid`;
    expect(writes).toEqual([{ token: first!.leaseToken }]);
    expect(ends.filter((end) => end.jobId === job.id)).toEqual([{ jobId: job.id, status: "succeeded" }]);
  });

  test("a fenced write and a take-over never interleave: the claim waits for the write to commit", async () => {
    const { job } = await enqueueJob(t.db, chore, { task: "dust" });
    const [held] = await claimJobs(t.db, { workerId: "slow", limit: 1, leaseSeconds: 1, kinds });
    const lease = createLease(t.db, {
      jobId: job.id,
      token: held!.leaseToken!,
      leaseSeconds: 60,
      claimedAtMs: performance.now(),
    });
    let claimedAt = 0;
    const write = lease.fenced(async (tx) => {
      await tx.$executeRaw`INSERT INTO test_fenced_writes VALUES (${job.id}::uuid, ${held!.leaseToken}::uuid)`;
      // The lease expires while this transaction is open; a claim now must wait behind its row lock.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return performance.now();
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const claim = claimJobs(t.db, { workerId: "next", limit: 1, leaseSeconds: 30, kinds }).then((rows) => {
      claimedAt = performance.now();
      return rows;
    });
    const committedAt = await write;
    const [next] = await claim;
    // SKIP LOCKED skips the row while the write holds it; the next claim takes it once the write committed.
    const taken = next ?? (await claimJobs(t.db, { workerId: "next", limit: 1, leaseSeconds: 30, kinds }))[0];
    expect(taken?.id).toBe(job.id);
    if (next) expect(claimedAt).toBeGreaterThanOrEqual(committedAt);
    await completeJob(t.db, attempt(taken!), null, chore);
  });

  test("a released job keeps its claim count, so the next run knows an earlier one started", async () => {
    const { job } = await enqueueJob(t.db, chore, { task: "sweep" });
    const [first] = await claimJobs(t.db, { workerId: "draining", limit: 1, leaseSeconds: 30, kinds });
    expect(await releaseJob(t.db, attempt(first!))).toBe(true);
    const [second] = await claimJobs(t.db, { workerId: "next", limit: 1, leaseSeconds: 30, kinds });
    expect(second).toMatchObject({ id: job.id, attempts: 1, claims: 2 });
    await completeJob(t.db, attempt(second!), null, chore);
  });

  test("an invalid payload is refused at enqueue, and a corrupted row fails without blocking others", async () => {
    await expect(enqueueJob(t.db, chore, { task: "explode" } as never)).rejects.toThrow(/task/);

    const bad = await t.db.job.create({ data: { kind: chore.name, payload: { task: "explode" } } });
    const good = (await enqueueJob(t.db, chore, { task: "sweep" })).job;
    const worker = new JobWorker({
      db: t.db,
      databaseUrl: t.url,
      log: silent,
      pollIntervalMs: 50,
      handlers: [handles(chore, async () => "done")],
    });
    await worker.start();
    const [badDone, goodDone] = await Promise.all([waitForJob(t.db, bad.id), waitForJob(t.db, good.id)]);
    await worker.stop();
    expect(badDone.status).toBe("failed");
    expect(badDone.attempts).toBe(1);
    expect(badDone.lastError).toMatch(/Invalid payload for job kind "test-chore": task/);
    expect(goodDone.status).toBe("succeeded");
  });

  test("transient failures retry with backoff; exhausted attempts fail", async () => {
    const { job } = await enqueueJob(t.db, chore, { task: "sweep" }, { maxAttempts: 2 });
    const [first] = await claimJobs(t.db, { workerId: "w", limit: 1, leaseSeconds: 30, kinds });
    expect(
      await failJob(t.db, attempt(first!), first!, new Error("503 from target"), { retryBaseMs: 10 }),
    ).toBe("retrying");
    const queued = await getJob(t.db, job.id);
    expect(queued).toMatchObject({ status: "queued", lastError: "503 from target", leaseToken: null });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [second] = await claimJobs(t.db, { workerId: "w", limit: 1, leaseSeconds: 30, kinds });
    expect(second?.attempts).toBe(2);
    expect(await failJob(t.db, attempt(second!), second!, new Error("503 again"), { kind: chore })).toBe(
      "failed",
    );
  });

  test("a live dedupe key makes concurrent enqueues one job", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => enqueueJob(t.db, chore, { task: "dust" }, { dedupeKey: "one-dust" })),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.job.id)).size).toBe(1);
  });
});
