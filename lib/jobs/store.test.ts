import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { JobWorker, type JobLogger } from "./runner";
import { claimJobs, completeJob, enqueueJob, failJob, getJob } from "./store";
import { waitForJob } from "./wait";

const silent: JobLogger = { info() {}, warn() {}, error() {} };
let t: TestDatabase;
let connectionId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  connectionId = (await t.db.connection.create({ data: { name: "jobs test" } })).id;
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
          handlers: {
            maintenance: async (_payload, { job }) => {
              runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
              await new Promise((resolve) => setTimeout(resolve, 5));
              return { by: job.lockedBy };
            },
          },
        }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      ids.push((await enqueueJob(t.db, "maintenance", { task: "prune" })).job.id);
    }
    await Promise.all(workers.map((worker) => worker.start()));
    const finished = await Promise.all(ids.map((id) => waitForJob(t.db, id, { timeoutMs: 20_000 })));
    await Promise.all(workers.map((worker) => worker.stop()));

    expect(finished.every((job) => job.status === "succeeded")).toBe(true);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(60);
    const byWorker = new Set(finished.map((job) => (job.result as { by: string }).by));
    expect(byWorker.size).toBeGreaterThan(1);
  });

  test("a job whose worker died is reclaimed after its lease expires", async () => {
    const { job } = await enqueueJob(t.db, "maintenance", { task: "prune" });
    const [claimed] = await claimJobs(t.db, { workerId: "dead-worker", limit: 1, leaseSeconds: 1 });
    expect(claimed?.id).toBe(job.id);
    expect(await claimJobs(t.db, { workerId: "other", limit: 1, leaseSeconds: 30 })).toHaveLength(0);

    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const [reclaimed] = await claimJobs(t.db, { workerId: "other", limit: 1, leaseSeconds: 30 });
    expect(reclaimed?.id).toBe(job.id);
    expect(reclaimed?.attempts).toBe(2);
    // The dead worker's late completion must not overwrite the new owner's run.
    expect(await completeJob(t.db, "dead-worker", job.id, {})).toBe(false);
    expect(await completeJob(t.db, "other", job.id, { ok: true })).toBe(true);
  });

  test("an invalid payload is refused at enqueue, and a corrupted row fails without blocking others", async () => {
    await expect(
      enqueueJob(t.db, "on-demand", { connectionId, subjects: [], initiatedBy: "x" }),
    ).rejects.toThrow(/subjects/);

    const bad = await t.db.job.create({ data: { kind: "maintenance", payload: { task: "explode" } } });
    const good = (await enqueueJob(t.db, "maintenance", { task: "prune" })).job;
    const worker = new JobWorker({
      db: t.db,
      databaseUrl: t.url,
      log: silent,
      pollIntervalMs: 50,
      handlers: { maintenance: async () => "done" },
    });
    await worker.start();
    const [badDone, goodDone] = await Promise.all([waitForJob(t.db, bad.id), waitForJob(t.db, good.id)]);
    await worker.stop();
    expect(badDone.status).toBe("failed");
    expect(badDone.attempts).toBe(1);
    expect(badDone.lastError).toMatch(/Invalid payload for job kind "maintenance": task/);
    expect(goodDone.status).toBe("succeeded");
  });

  test("transient failures retry with backoff; exhausted attempts fail", async () => {
    const { job } = await enqueueJob(t.db, "maintenance", { task: "prune" }, { maxAttempts: 2 });
    const [first] = await claimJobs(t.db, { workerId: "w", limit: 1, leaseSeconds: 30 });
    expect(await failJob(t.db, "w", first!, new Error("503 from target"), { retryBaseMs: 10 })).toBe(
      "retrying",
    );
    const queued = await getJob(t.db, job.id);
    expect(queued?.status).toBe("queued");
    expect(queued?.lastError).toBe("503 from target");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [second] = await claimJobs(t.db, { workerId: "w", limit: 1, leaseSeconds: 30 });
    expect(second?.attempts).toBe(2);
    expect(await failJob(t.db, "w", second!, new Error("503 again"))).toBe("failed");
  });

  test("two concurrent cycle requests for one connection produce one cycle job", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        enqueueJob(
          t.db,
          "provisioning-cycle",
          { connectionId, trigger: "start", dryRun: false },
          { connectionId },
        ),
      ),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.job.id)).size).toBe(1);
    expect(await t.db.job.count({ where: { kind: "provisioning-cycle", connectionId } })).toBe(1);
  });
});
