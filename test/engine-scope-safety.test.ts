import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { resetEnvironmentCache } from "@/lib/config/env";
import { SecretBox, lastFour } from "@/lib/crypto/secrets";
import { explainUser } from "@/lib/server/explain";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { allowDeletes } from "@/lib/server/held-changes";
import { getProvisioningStatus } from "@/lib/server/provisioning-status";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { describeSeed, SEED_GROUPS } from "@/sandbox/graph/seed";
import { createTestDatabase, type TestDatabase } from "./database";
import { sandboxMailer } from "./engine-harness";

/**
 * Deletion safety beyond Entra's threshold: SkipOutOfScopeDeletions leaves unassigned users alone, and
 * the source-shrink guard holds every disable and delete when Entra ID suddenly returns far fewer
 * assigned users. Real HTTPS to the emulators, real PostgreSQL, a real SMTP catcher.
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
    DATA_DIR: path.join(os.tmpdir(), "provisioning-engine-scope-safety-test"),
    LOG_LEVEL: "silent",
  });
  resetEnvironmentCache();
  connectionId = await ensureSandboxConnection(t.db, box, sandbox.runtime);
  const key = sandbox.runtime.dialpad.apiKey;
  // A threshold no cycle here reaches: whatever the guard holds, it holds on its own.
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      // The tests run each cycle themselves; continuous mode would add its own.
      scheduleMode: "interval",
      tenantUrl: sandbox.runtime.dialpad.tenantUrl,
      secretTokenCipher: box.seal(key, `${connectionId}:secretToken`),
      secretTokenLast4: lastFour(key),
      provisioningEnabled: true,
      notificationEmail: ADMIN_MAIL,
      deletionThreshold: 100_000,
    },
  });
  sandbox.dialpad.configure({ rateLimit: null });
  const first = await runCycle();
  expect(first).toMatchObject({ status: "succeeded", counts: { failed: 0 } });
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const mailer = () => sandboxMailer(sandbox);

const runCycle = () =>
  runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "schedule", dryRun: false },
    { mailer: mailer(), requestsPerSecond: 1_000 },
  );

const settings = (data: { skipOutOfScopeDeletions?: boolean; sourceShrinkPercent?: number }) =>
  t.db.connection.update({ where: { id: connectionId }, data });

const directory = () => sandbox.graph.directory;
const upnOf = (id: string) => directory().getUser(id)!.userPrincipalName;
const activeInDialpad = (id: string) =>
  sandbox.dialpad.company.findUserByUserName(upnOf(id))?.attributes.active;
/** Writes to Dialpad users: disables, deletes, any change of an account. */
const userWritesFrom = (start: number) =>
  sandbox.dialpad.requests
    .slice(start)
    .filter((request) => request.method !== "GET" && request.path.startsWith("/scim/Users"))
    .map((request) => `${request.method} ${request.path}`);
const mailTo = () => sandbox.mail.messages.filter((message) => message.to.includes(ADMIN_MAIL));
const cycleRow = (id: string) => t.db.cycle.findUniqueOrThrow({ where: { id } });

/** Enabled users assigned directly and through no assigned group, so unassigning takes them out of scope. */
function directlyAssignedUsers(count: number): string[] {
  const assignedGroups = new Set(
    directory()
      .listAssignments()
      .filter((assignment) => assignment.principalType === "Group")
      .map((assignment) => assignment.principalId),
  );
  return describeSeed(directory())
    .inScopeUserIds.filter((id) =>
      directory()
        .memberOf(id)
        .every((group) => !assignedGroups.has(group)),
    )
    .filter((id) => directory().getUser(id)!.accountEnabled !== false)
    .filter((id) => activeInDialpad(id) === true)
    .slice(0, count);
}

describe("SkipOutOfScopeDeletions", () => {
  test("on: an unassigned user stays active in Dialpad with a Skipped log entry saying why; off: it is disabled", async () => {
    await settings({ skipOutOfScopeDeletions: true });
    const [victim] = directlyAssignedUsers(1);
    expect(victim).toBeDefined();
    directory().unassign(victim!);
    const start = sandbox.dialpad.requests.length;
    const skipped = await runCycle();
    expect(skipped).toMatchObject({ status: "succeeded", quarantine: null, counts: { disabled: 0 } });
    expect(userWritesFrom(start)).toEqual([]);
    expect(activeInDialpad(victim!)).toBe(true);
    const entry = await t.db.provisioningLog.findFirstOrThrow({
      where: { cycleId: skipped.cycleId!, sourceId: victim! },
    });
    expect(entry).toMatchObject({ action: "Other", status: "Skipped" });
    expect(entry.errorReason).toBe(
      "The user went out of scope, and SkipOutOfScopeDeletions is set, so it was not disabled in Dialpad.",
    );
    // The link is kept: the user is still one of the connection's objects in Dialpad.
    expect(await t.db.objectLink.count({ where: { connectionId, sourceId: victim! } })).toBe(1);

    // Why? predicts what the cycle did, through the same rule.
    const why = await explainUser(t.db, box, { connectionId, objectId: victim! });
    expect(why.decision.statusInfo).toMatchObject({ status: "Skipped" });
    expect(why.decision.statusInfo.reason).toContain("SkipOutOfScopeDeletions");

    // Logged once: the next cycle leaves it alone without another entry.
    const quiet = await runCycle();
    expect(await t.db.provisioningLog.count({ where: { cycleId: quiet.cycleId!, sourceId: victim! } })).toBe(
      0,
    );
    expect(activeInDialpad(victim!)).toBe(true);

    // Turned off, the out-of-scope user is deprovisioned as Entra does by default.
    await settings({ skipOutOfScopeDeletions: false });
    const disabling = await runCycle();
    expect(disabling.counts).toMatchObject({ disabled: 1, failed: 0 });
    expect(activeInDialpad(victim!)).toBe(false);
    const disabled = await t.db.provisioningLog.findFirstOrThrow({
      where: { cycleId: disabling.cycleId!, sourceId: victim! },
    });
    expect(disabled).toMatchObject({ action: "Disable", status: "Success" });
  });
});

describe("source-shrink guard", () => {
  test("10 % fewer assigned users than the last cycle: the cycle proceeds and disables them", async () => {
    const before = (await cycleRow((await runCycle()).cycleId!)).sourceUsersRead!;
    expect(before).toBeGreaterThan(20);
    const victims = directlyAssignedUsers(Math.floor(before / 10));
    for (const id of victims) directory().unassign(id);
    const cycle = await runCycle();
    expect(cycle).toMatchObject({ status: "succeeded", quarantine: null });
    expect(cycle.counts).toMatchObject({ disabled: victims.length, held: 0 });
    for (const id of victims) expect(activeInDialpad(id)).toBe(false);
    expect(await cycleRow(cycle.cycleId!)).toMatchObject({
      sourceUsersRead: before - victims.length,
      sourceUsersBefore: before,
      sourceShrinkHeld: false,
    });
  });

  test("an emptied assigned group over the limit holds its members' disables; Allow deletes runs them", async () => {
    await settings({ sourceShrinkPercent: 10 });
    const group = SEED_GROUPS.dialpadUsers.id;
    const assignedGroups = new Set(
      directory()
        .listAssignments()
        .filter((assignment) => assignment.principalType === "Group")
        .map((assignment) => assignment.principalId),
    );
    // The members entitled through this group only: emptying it takes exactly these out of scope.
    const members = directory()
      .listMembers(group)
      .map((member) => member.id)
      .filter((id) => directory().assignmentsOf(id).length === 0)
      .filter((id) =>
        directory()
          .memberOf(id)
          .every((other) => other === group || !assignedGroups.has(other)),
      )
      .filter((id) => activeInDialpad(id) === true);
    expect(members.length).toBeGreaterThan(0);
    const before = (await cycleRow((await runCycle()).cycleId!)).sourceUsersRead!;
    for (const id of members) directory().removeMember(group, id);
    const start = sandbox.dialpad.requests.length;
    const held = await runCycle();
    expect(held.counts).toMatchObject({ disabled: 0 });
    expect(held.counts?.held).toBe(members.length);
    expect(held.quarantine?.reason).toBe("TooManyDeletes");
    expect(userWritesFrom(start)).toEqual([]);
    for (const id of members) expect(activeInDialpad(id)).toBe(true);
    const row = await cycleRow(held.cycleId!);
    expect(row).toMatchObject({ sourceUsersBefore: before, sourceShrinkHeld: true });
    expect(row.sourceUsersRead).toBeLessThan(before * 0.9);

    const result = await allowDeletes(t.db, connectionId, { box });
    expect(result.failed).toBe(0);
    for (const id of members) expect(activeInDialpad(id)).toBe(false);
    // Nothing is left to hold: the smaller count is accepted and the connection is out of quarantine.
    const after = await runCycle();
    expect(after).toMatchObject({ status: "succeeded", quarantine: null, counts: { held: 0 } });
    expect(await cycleRow(after.cycleId!)).toMatchObject({ sourceShrinkHeld: false });
    await settings({ sourceShrinkPercent: 30 });
  });

  test("no assigned users at all: nothing is disabled, the connection is quarantined with the reason and mailed", async () => {
    const before = (await cycleRow((await runCycle()).cycleId!)).sourceUsersRead!;
    expect(before).toBeGreaterThan(0);
    // Every user and group still active in Dialpad would be disabled or deleted.
    const deprovisionable = await t.db.objectLink.count({
      where: { connectionId, active: true, objectType: { in: ["User", "Group"] } },
    });
    const removed = directory().listAssignments();
    for (const assignment of removed) directory().unassign(assignment.principalId, assignment.appRoleId);
    const mailsBefore = mailTo().length;
    const start = sandbox.dialpad.requests.length;
    const expected = `Microsoft Entra ID returned 0 assigned users; the last cycle had ${before}.`;

    const held = await runCycle();
    expect(held.counts).toMatchObject({ disabled: 0, deleted: 0 });
    expect(held.counts?.held).toBe(deprovisionable);
    expect(held.quarantine?.reason).toBe("TooManyDeletes");
    expect(userWritesFrom(start)).toEqual([]);
    expect(await cycleRow(held.cycleId!)).toMatchObject({
      sourceUsersRead: 0,
      sourceUsersBefore: before,
      sourceShrinkHeld: true,
    });
    const status = await getProvisioningStatus(t.db, connectionId);
    expect(status.code).toBe("Quarantine");
    expect(status.quarantine?.error).toMatchObject({ sourceShrink: true });
    expect(JSON.stringify(status.quarantine?.error)).toContain(expected);
    // The overview says how many users were read against the last accepted cycle.
    expect(status.lastCycle?.sourceUsers).toEqual({ read: 0, before, held: true });
    expect(status.heldChanges.count).toBe(held.counts?.held);
    const staged = await t.db.provisioningLog.findFirstOrThrow({
      where: { cycleId: held.cycleId!, action: "StagedDelete" },
    });
    expect(staged.errorReason).toContain(expected);
    const mails = mailTo().slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/quarantine/i);
    expect(mails[0]!.text).toContain(expected);
    expect(mails[0]!.text).toContain("Allow deletes");

    // Held again while the read stays empty: the empty count never becomes the one compared with.
    const again = await runCycle();
    expect(again.counts).toMatchObject({ disabled: 0 });
    expect(await cycleRow(again.cycleId!)).toMatchObject({
      sourceUsersBefore: before,
      sourceShrinkHeld: true,
    });
    expect(mailTo().slice(mailsBefore)).toHaveLength(1);

    // The assignments come back: the held disables evaporate and the quarantine ends.
    for (const assignment of removed) directory().assign(assignment.principalId, assignment.appRoleId);
    const healed = await runCycle();
    expect(healed).toMatchObject({ status: "succeeded", quarantine: null });
    expect(healed.counts).toMatchObject({ disabled: 0, held: 0 });
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(0);
    expect(userWritesFrom(start)).toEqual([]);
  });
});
