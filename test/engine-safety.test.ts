import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { Prisma } from "@/lib/db/generated/client";
import { resetEnvironmentCache } from "@/lib/config/env";
import { SecretBox, lastFour } from "@/lib/crypto/secrets";
import { defaultDialpadMapping } from "@/lib/mapping";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { allowDeletes, applyRestartCriteria } from "@/lib/server/held-changes";
import { getProvisioningStatus } from "@/lib/server/provisioning-status";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { type RunCycleOptions } from "@/lib/server/cycle-peers";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { describeSeed } from "@/sandbox/graph/seed";
import { createTestDatabase, type TestDatabase } from "./database";
import { sandboxMailer } from "./engine-harness";

/**
 * What keeps a cycle safe when things go wrong: throttling, a revoked key, a mass unassignment, objects
 * Dialpad refuses. Real HTTPS to the emulators, real PostgreSQL, a real SMTP catcher.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const ADMIN_MAIL = "provisioning-admins@contoso.example";

beforeAll(async () => {
  sandbox = await startSandbox({
    dataDir: os.tmpdir(),
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
  });
  t = await createTestDatabase();
  Object.assign(process.env, {
    SECRET_KEY: secretKey.toString("base64"),
    DATA_DIR: path.join(os.tmpdir(), "provisioning-engine-safety-test"),
    LOG_LEVEL: "silent",
  });
  resetEnvironmentCache();
  connectionId = await ensureSandboxConnection(t.db, box, sandbox.runtime);
  await setKey(sandbox.runtime.dialpad.apiKey);
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      provisioningEnabled: true,
      notificationEmail: ADMIN_MAIL,
      deletionThreshold: 3,
      // The tests run each cycle themselves; continuous mode would add its own.
      scheduleMode: "interval",
    },
  });
  sandbox.dialpad.configure({ rateLimit: null });
  const first = await runCycle({ requestsPerSecond: 1_000 });
  expect(first).toMatchObject({ status: "succeeded", counts: { failed: 0 } });
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

async function setKey(key: string) {
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      tenantUrl: sandbox.runtime.dialpad.tenantUrl,
      secretTokenCipher: box.seal(key, `${connectionId}:secretToken`),
      secretTokenLast4: lastFour(key),
    },
  });
}

const mailer = () => sandboxMailer(sandbox);

const runCycle = (options: Pick<RunCycleOptions, "requestsPerSecond" | "escrowThresholds"> = {}) =>
  runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "schedule", dryRun: false },
    { mailer: mailer(), ...options },
  );

const writesFrom = (start: number) =>
  sandbox.dialpad.requests.slice(start).filter((request) => request.method !== "GET");
const dialpadUser = (upn: string) => sandbox.dialpad.company.findUserByUserName(upn);
const mailTo = () => sandbox.mail.messages.filter((message) => message.to.includes(ADMIN_MAIL));

/** In-scope users assigned directly, so unassigning them takes them out of scope. */
function directlyAssignedUsers(count: number): string[] {
  const directory = sandbox.graph.directory;
  const seed = describeSeed(directory);
  const assignedGroups = new Set(
    directory
      .listAssignments()
      .filter((assignment) => assignment.principalType === "Group")
      .map((assignment) => assignment.principalId),
  );
  return seed.inScopeUserIds
    .filter((id) => directory.memberOf(id).every((group) => !assignedGroups.has(group)))
    .filter((id) => directory.getUser(id)!.accountEnabled !== false)
    .slice(0, count);
}

describe("throttling", () => {
  test("429s and 503s from Dialpad are absorbed: the cycle completes with no failed object", async () => {
    const users = describeSeed(sandbox.graph.directory).inScopeUserIds.slice(0, 8);
    for (const id of users) sandbox.graph.directory.updateUser(id, { jobTitle: "Throttled Title" });
    sandbox.dialpad.configure({ rateLimit: { requestsPerSecond: 5, burst: 1 }, burst5xx: 2 });
    const start = sandbox.dialpad.requests.length;
    try {
      const summary = await runCycle();
      expect(summary.counts).toMatchObject({ failed: 0, updated: 8 });
    } finally {
      sandbox.dialpad.configure({ rateLimit: null, burst5xx: 0 });
    }
    const answers = sandbox.dialpad.requests.slice(start).map((request) => request.status);
    expect(answers.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(answers.filter((status) => status === 503)).toHaveLength(2);
    for (const id of users) {
      const upn = sandbox.graph.directory.getUser(id)!.userPrincipalName;
      expect(sandbox.dialpad.company.toScimUser(dialpadUser(upn)!)).toMatchObject({
        title: "Throttled Title",
      });
    }
  }, 30_000);
});

describe("quarantine", () => {
  test("a wrong key quarantines at once and sends exactly one e-mail; a good key ends the quarantine", async () => {
    const mailsBefore = mailTo().length;
    await setKey("not-the-dialpad-key");
    const start = sandbox.dialpad.requests.length;
    let first, again;
    try {
      first = await runCycle();
      again = await runCycle();
    } finally {
      await setKey(sandbox.runtime.dialpad.apiKey);
    }
    expect(first).toMatchObject({
      status: "failed",
      quarantine: { reason: "EncounteredQuarantineException" },
    });
    // The probe is the only request of each cycle: nothing else is tried with a rejected key.
    expect(sandbox.dialpad.requests.length - start).toBe(2);
    expect(again.quarantine?.reason).toBe("EncounteredQuarantineException");
    const mails = mailTo().slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/quarantine/i);
    expect(mails[0]!.text).toContain("EncounteredQuarantineException");
    expect(mails[0]!.text).not.toContain("not-the-dialpad-key");

    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection).toMatchObject({
      quarantineReason: "EncounteredQuarantineException",
      quarantineSeriesCount: 2,
    });
    // +6 h after the first failure, +12 h after the second.
    const hours = (connection.quarantineNextAttempt!.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThan(12.1);

    const healed = await runCycle();
    expect(healed).toMatchObject({ status: "succeeded", quarantine: null });
    expect((await getProvisioningStatus(t.db, connectionId)).quarantine).toBeNull();
  });
});

describe("accidental deletions prevention", () => {
  test("more disables than the threshold are held, quarantined and mailed; Allow deletes runs them", async () => {
    const victims = directlyAssignedUsers(5);
    expect(victims).toHaveLength(5);
    for (const id of victims) sandbox.graph.directory.unassign(id);
    const mailsBefore = mailTo().length;
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    expect(summary.counts).toMatchObject({ held: 5, disabled: 0 });
    expect(summary.quarantine?.reason).toBe("TooManyDeletes");
    expect(writesFrom(start)).toEqual([]);
    for (const id of victims)
      expect(dialpadUser(sandbox.graph.directory.getUser(id)!.userPrincipalName)!.attributes.active).toBe(
        true,
      );
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(5);
    const staged = await t.db.provisioningLog.findMany({
      where: { cycleId: summary.cycleId!, action: "StagedDelete" },
    });
    expect(staged.map((entry) => entry.sourceId).sort()).toEqual([...victims].sort());
    const mails = mailTo().slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain("TooManyDeletes");
    expect(mails[0]!.text).toContain("Allow deletes");

    // Held again by the next cycle, without a second e-mail for the same quarantine.
    await runCycle();
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(5);
    expect(mailTo().slice(mailsBefore)).toHaveLength(1);

    const result = await allowDeletes(t.db, connectionId, { box });
    expect(result).toEqual({ executed: 5, failed: 0 });
    for (const id of victims)
      expect(dialpadUser(sandbox.graph.directory.getUser(id)!.userPrincipalName)!.attributes.active).toBe(
        false,
      );
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(0);
    expect(
      (await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } })).quarantineReason,
    ).toBeNull();
    const after = sandbox.dialpad.requests.length;
    await runCycle();
    expect(writesFrom(after)).toEqual([]);
  });

  test("a restart discards held deletions; ForceDeletes runs them", async () => {
    const victims = directlyAssignedUsers(4);
    expect(victims).toHaveLength(4);
    for (const id of victims) sandbox.graph.directory.unassign(id);
    const holding = await runCycle();
    expect(holding.counts?.held).toBe(4);
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(4);
    const restarted = await applyRestartCriteria(t.db, connectionId, []);
    expect(restarted).toMatchObject({ heldDiscarded: 4, deletesExecuted: 0, linksRemoved: 0 });
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection).toMatchObject({ usersDeltaLink: null, quarantineReason: null });

    // The restart's initial cycle evaluates them again and holds them again, as Entra does.
    const initial = await runCycle({ requestsPerSecond: 1_000 });
    expect(initial).toMatchObject({ type: "initial", counts: { held: 4 } });
    const forced = await applyRestartCriteria(t.db, connectionId, ["ForceDeletes"], { box });
    expect(forced.deletesExecuted).toBe(4);
    for (const id of victims)
      expect(dialpadUser(sandbox.graph.directory.getUser(id)!.userPrincipalName)!.attributes.active).toBe(
        false,
      );
  });
});

describe("escrow", () => {
  test("an object Dialpad refuses is escrowed and retried by a later cycle without any change in Entra", async () => {
    // Match on externalId only, so a Dialpad user already holding the userName makes the create conflict.
    const mapping = defaultDialpadMapping();
    mapping.users.attributeMappings = mapping.users.attributeMappings.map((attribute) => ({
      ...attribute,
      matchingPriority: attribute.target === "externalId" ? 1 : 0,
    }));
    await t.db.connection.update({
      where: { id: connectionId },
      data: { mappings: mapping as unknown as Prisma.InputJsonValue },
    });
    const settle = await runCycle({ requestsPerSecond: 1_000 });
    expect(settle.counts?.failed).toBe(0);

    const user = sandbox.graph.directory.addUser({
      userPrincipalName: "carla.conflict@contoso.example",
      displayName: "Carla Conflict",
      givenName: "Carla",
      surname: "Conflict",
      accountEnabled: true,
    });
    sandbox.graph.directory.assign(user.id, DIALPAD_USER_ROLE_ID);
    const squatter = sandbox.dialpad.company.createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "carla.conflict@contoso.example",
      externalId: "someone-else",
    });

    const failing = await runCycle({
      escrowThresholds: { minFailures: 1, proportion: 0.4, maxFailures: 100, maxFailuresWithReferences: 100 },
    });
    expect(failing.counts).toMatchObject({ failed: 1, countEscrowed: 1 });
    const escrow = await t.db.escrow.findFirstOrThrow({ where: { connectionId, sourceId: user.id } });
    expect(escrow).toMatchObject({ attempts: 1, kind: "object", lastErrorCode: "EntryConflict" });
    const log = await t.db.provisioningLog.findFirstOrThrow({
      where: { cycleId: failing.cycleId!, sourceId: user.id },
    });
    expect(log).toMatchObject({ action: "Create", status: "Failure", errorCode: "EntryConflict" });
    expect(log.recommendedAction).toBeTruthy();
    // One failure out of one event is over 40 % with the small test thresholds: quarantined.
    expect(failing.quarantine?.reason).toBe("EncounteredEscrowProportionThreshold");

    // Retried by the next cycle although nothing changed in Entra; the second failure backs off to +1 h.
    const retried = await runCycle();
    expect(retried.counts?.failed).toBe(1);
    const backedOff = await t.db.escrow.findFirstOrThrow({ where: { connectionId, sourceId: user.id } });
    expect(backedOff.attempts).toBe(2);
    expect(backedOff.nextRetryAt.getTime() - Date.now()).toBeGreaterThan(55 * 60_000);
    const quiet = await runCycle();
    expect(quiet.counts?.failed).toBe(0);

    // The admin clears the conflict and restarts (which clears escrows): the user is created.
    sandbox.dialpad.company.deleteUser(squatter.id);
    await applyRestartCriteria(t.db, connectionId, ["Escrows", "QuarantineState"]);
    const healed = await runCycle();
    expect(healed.counts).toMatchObject({ failed: 0, created: 1 });
    expect(dialpadUser("carla.conflict@contoso.example")?.attributes.externalId).toBe(user.id);
    expect(await t.db.escrow.count({ where: { connectionId } })).toBe(0);
  });
});
