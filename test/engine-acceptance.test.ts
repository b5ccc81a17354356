import crypto from "node:crypto";
import { getProvisioningStatus } from "@/lib/server/provisioning-status";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Prisma } from "@/lib/db/generated/client";
import { SecretBox } from "@/lib/crypto/secrets";
import { defaultDialpadMapping } from "@/lib/mapping";
import { saveMappings } from "@/lib/server/mappings";
import { runOnDemand } from "@/lib/server/on-demand";
import type { JobWorker } from "@/lib/jobs/runner";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import {
  startCycleAndWaitForEnd,
  startEngineHarness,
  TEST_ADMIN,
  startSandboxWorker,
} from "./engine-harness";

/**
 * Acceptance points of the engine: on demand for an out-of-scope user names the failing scoping clause,
 * and "send an email notification when a failure occurs" sends one e-mail per failing cycle (none when
 * off). Real HTTPS to the emulators, real PostgreSQL, a real SMTP catcher, cycles run by a job worker.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let worker: JobWorker;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const ADMIN_MAIL = "provisioning-failures@contoso.example";
const admin = TEST_ADMIN;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "engine-acceptance", secretKey }));
  worker = await startSandboxWorker({
    t,
    sandbox,
    workerId: "acceptance-worker",
    concurrency: 2,
    unitPageSize: 50,
  });
});

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

/** Starts a cycle through the worker and waits until it ended (finalized, when it fanned out). */
async function cycleThroughWorker() {
  const { cycle } = await startCycleAndWaitForEnd(t.db, connectionId);
  // Stop the chain of scheduled cycles so the next test starts its own.
  await t.db.job.deleteMany({ where: { connectionId, kind: "provisioning-cycle", status: "queued" } });
  return cycle;
}

const mailTo = () => sandbox.mail.messages.filter((message) => message.to.includes(ADMIN_MAIL));

describe("on demand", () => {
  test("an out-of-scope user is Skipped and the scoping step names the failing clause", async () => {
    const config = defaultDialpadMapping();
    config.users.scope = {
      groups: [
        {
          name: "Engineering only",
          clauses: [
            {
              operatorName: "EQUALS",
              sourceOperandName: "department",
              targetOperand: { values: ["Engineering"] },
            },
          ],
        },
      ],
      inputFilterGroups: [],
      categoryFilterGroups: [],
    } as unknown as typeof config.users.scope;
    await saveMappings(t.db, admin, connectionId, config);

    const requestsBefore = sandbox.dialpad.requests.length;
    const result = await runOnDemand(t.db, box, {
      connectionId,
      subject: { objectId: SEED_USERS.zoe.id, objectTypeName: "User" },
      initiatedBy: admin.upn,
      jobId: null,
    });
    expect(result.status).toBe("Skipped");
    const scoping = result.provisioningSteps.find((step) => step.type === "Scoping");
    expect(scoping).toMatchObject({
      name: "EntrySynchronizationScoping",
      status: "skipped",
      description: "The user does not match the scoping filter",
    });
    expect(scoping!.details).toMatchObject({
      "Assigned to the application": true,
      "User has the required role": true,
      "Engineering only: department EQUALS Engineering": 'false (value: "Sales")',
      ScopeEvaluationResult: "out of scope",
    });
    // Nothing was written to Dialpad, and the log entry holds the same steps.
    expect(
      sandbox.dialpad.requests.slice(requestsBefore).filter((request) => request.method !== "GET"),
    ).toEqual([]);
    expect(sandbox.dialpad.company.findUserByUserName(SEED_USERS.zoe.upn)).toBeUndefined();
    const log = await t.db.provisioningLog.findUniqueOrThrow({ where: { id: result.logId! } });
    expect(log).toMatchObject({ status: "Skipped", sourceId: SEED_USERS.zoe.id, initiatedBy: admin.upn });
    expect(JSON.stringify(log.steps)).toContain('false (value: \\"Sales\\")');
  });
});

describe("failure e-mails", () => {
  test("one e-mail per failing cycle when the option is on, naming the connection and no secret; none when off", async () => {
    // Match on externalId only, so a Dialpad user already holding Ada's userName makes her create fail.
    const mapping = defaultDialpadMapping();
    mapping.users.attributeMappings = mapping.users.attributeMappings.map((attribute) => ({
      ...attribute,
      matchingPriority: attribute.target === "externalId" ? 1 : 0,
    }));
    await t.db.connection.update({
      where: { id: connectionId },
      data: {
        mappings: mapping as unknown as Prisma.InputJsonValue,
        usersDeltaLink: null,
        groupsDeltaLink: null,
        notificationEmail: ADMIN_MAIL,
        notifyOnFailure: true,
      },
    });
    sandbox.dialpad.company.createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: SEED_USERS.admin.upn,
      externalId: "someone-else",
    });
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });

    const failing = await cycleThroughWorker();
    expect(failing.status).toBe("succeededWithFailures");
    expect(failing.totalUnits).toBeGreaterThan(1);
    expect(failing.counts).toMatchObject({ failed: 1 });
    // The status API tells the outcome apart, and the cycle still counts as the last completed one.
    const status = await getProvisioningStatus(t.db, connectionId);
    expect(status.lastCycle).toMatchObject({ id: failing.id, status: "succeededWithFailures" });
    expect(status.lastSuccessfulCycle?.id).toBe(failing.id);
    const failure = await t.db.provisioningLog.findFirstOrThrow({
      where: { cycleId: failing.id, status: "Failure" },
    });
    expect(failure).toMatchObject({ sourceId: SEED_USERS.admin.id, errorCode: "EntryConflict" });
    const mails = await (async () => {
      await sandbox.mail.waitFor((mail) => mail.to.includes(ADMIN_MAIL), 5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      return mailTo();
    })();
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.subject).toBe(`Provisioning failures for "${connection.name}"`);
    expect(mail!.text).toContain("1 object(s) failed to provision");
    expect(mail!.text).toContain(connectionId);
    expect(mail!.text).toContain(failing.id);
    for (const secret of [
      sandbox.runtime.dialpad.apiKey,
      sandbox.runtime.graph.clientSecret,
      secretKey.toString("base64"),
      connection.secretTokenCipher ?? secretKey.toString("hex"),
    ])
      expect(mail!.raw).not.toContain(secret);

    // The option off: the escrowed object fails again in the next cycle, and no e-mail is sent.
    await t.db.connection.update({ where: { id: connectionId }, data: { notifyOnFailure: false } });
    const quiet = await cycleThroughWorker();
    expect(quiet.status).toBe("succeededWithFailures");
    expect(quiet.counts).toMatchObject({ failed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailTo()).toHaveLength(1);
  }, 40_000);
});
