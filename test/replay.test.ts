import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { JobWorker } from "@/lib/jobs/runner";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { runOnDemand } from "@/lib/server/on-demand";
import { replayLogEntry } from "@/lib/server/replay";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * Replay: a failed change retried now through a real worker, re-planned from the current source, and
 * logged as a new entry linked to the failed one. Real HTTPS to the emulators, a real PostgreSQL.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let worker: JobWorker;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const admin = TEST_ADMIN;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "replay", secretKey }));
  const silent = { info() {}, warn() {}, error() {} };
  worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: silent,
    workerId: "replay-worker",
    concurrency: 1,
    pollIntervalMs: 50,
    handlers: createJobHandlers({ db: t.db, log: silent }),
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

describe("replay a failed change", () => {
  let failedId: string;

  test("a change that failed while Dialpad answered 500 succeeds when retried, linked to the failure", async () => {
    sandbox.dialpad.configure({ errorRate: 1 });
    const failed = await runOnDemand(t.db, box, {
      connectionId,
      subject: { objectId: SEED_USERS.zoe.id, objectTypeName: "User" },
      initiatedBy: admin.upn,
      jobId: null,
    });
    sandbox.dialpad.configure({ errorRate: 0 });
    expect(failed.status).toBe("Failure");
    failedId = failed.logId!;
    // A failed change waits in escrow for the next cycle, whichever path it failed on.
    const escrowOfZoe = { connectionId, objectType: "User", sourceId: SEED_USERS.zoe.id };
    expect(await t.db.escrow.count({ where: escrowOfZoe })).toBe(1);

    const replayed = await replayLogEntry(t.db, connectionId, failedId, admin);
    expect(replayed).toMatchObject({ action: "Create", status: "Success", replayOf: failedId });
    expect(sandbox.dialpad.company.findUserByUserName(SEED_USERS.zoe.upn)).toBeDefined();
    // Fixed by the replay, as a cycle's success would: no escrow left to report or retry.
    expect(await t.db.escrow.count({ where: escrowOfZoe })).toBe(0);
    const entry = await t.db.provisioningLog.findUniqueOrThrow({ where: { id: replayed.logId! } });
    expect(entry).toMatchObject({ replayOf: failedId, status: "Success", initiatedBy: admin.upn });
    expect(await t.db.provisioningLog.findUniqueOrThrow({ where: { id: failedId } })).toMatchObject({
      status: "Failure",
      replayOf: null,
    });
    const audit = await t.db.auditEntry.findFirst({
      where: { connectionId, activity: "Replay a failed change" },
    });
    expect(audit?.changes).toMatchObject({ replayOf: { after: failedId } });
  });

  test("only failed entries can be retried", async () => {
    const success = await t.db.provisioningLog.findFirstOrThrow({
      where: { connectionId, status: "Success" },
    });
    await expect(replayLogEntry(t.db, connectionId, success.id, admin)).rejects.toThrow(
      /Only a failed change/,
    );
    await expect(replayLogEntry(t.db, connectionId, crypto.randomUUID(), admin)).rejects.toThrow(
      /No log entry/,
    );
  });
});
