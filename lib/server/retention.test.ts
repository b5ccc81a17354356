import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { enqueueDailyPrune, pruneExpiredData } from "./retention";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

test("prune deletes logs and finished jobs past retention in batches, and keeps everything newer or live", async () => {
  const connectionId = (await t.db.connection.create({ data: { name: "retention" } })).id;
  const old = new Date(Date.now() - 31 * 86_400_000);
  const log = (activityDateTime: Date) => ({
    connectionId,
    activityDateTime,
    changeId: crypto.randomUUID(),
    action: "Create",
    status: "Success",
    objectType: "User",
    initiatedBy: "System",
  });
  await t.db.provisioningLog.createMany({
    data: [
      ...Array.from({ length: 25 }, () => log(old)),
      ...Array.from({ length: 3 }, () => log(new Date())),
    ],
  });
  const job = (status: string, finishedAt: Date | null) => ({
    kind: "maintenance",
    status,
    finishedAt,
    payload: {},
  });
  await t.db.job.createMany({
    data: [
      ...Array.from({ length: 12 }, () => job("succeeded", old)),
      job("failed", old),
      job("succeeded", new Date()),
      job("queued", null),
    ],
  });

  const result = await pruneExpiredData(t.db, { retentionDays: 30, batchSize: 10 });
  expect(result).toMatchObject({ provisioningLogs: 25, jobs: 13 });
  expect(await t.db.provisioningLog.count()).toBe(3);
  expect(await t.db.job.count()).toBe(2);
});

test("the daily prune is queued once a day however many workers ask", async () => {
  const day = new Date("2031-05-01T08:00:00Z");
  const results = await Promise.all([1, 2, 3, 4].map(() => enqueueDailyPrune(t.db, day)));
  expect(results.filter(Boolean)).toHaveLength(1);
  // Even after today's run finished.
  await t.db.job.updateMany({
    where: { dedupeKey: "maintenance:prune:2031-05-01" },
    data: { status: "succeeded" },
  });
  expect(await enqueueDailyPrune(t.db, new Date("2031-05-01T20:00:00Z"))).toBeNull();
  expect(await enqueueDailyPrune(t.db, new Date("2031-05-02T00:10:00Z"))).not.toBeNull();
});
