import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { buildPatch, defaultDialpadMapping } from "@/lib/mapping";
import type { GraphUser } from "@/lib/graph";
import { applyRestartCriteria } from "@/lib/server/held-changes";
import { getProvisioningStatus } from "@/lib/server/provisioning-status";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { JobWorker } from "@/lib/jobs/runner";
import { toEntraUser } from "@/lib/sync/source";
import { type RunningSandbox } from "@/sandbox/main";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { SEED_GROUPS, SEED_USERS, describeSeed } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startCycleAndWaitForEnd, startEngineHarness } from "./engine-harness";

/**
 * Whole provisioning cycles over real HTTPS against the Graph and Dialpad emulators and a real
 * PostgreSQL: the initial cycle converges, and each kind of change in Entra produces exactly the
 * Dialpad requests Entra would send, and nothing else.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "engine", secretKey }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const runCycle = () =>
  runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "start", dryRun: false },
    { mailer: null, requestsPerSecond: 1_000 },
  );

const writesFrom = (start: number) =>
  sandbox.dialpad.requests.slice(start).filter((request) => request.method !== "GET");

const dialpadUser = (upn: string) => sandbox.dialpad.company.findUserByUserName(upn);
const dialpadGroup = (displayName: string) =>
  [...sandbox.dialpad.company.groups.values()].find((group) => group.displayName === displayName);

async function logsOf(cycleId: string | null) {
  return t.db.provisioningLog.findMany({ where: { cycleId: cycleId! }, orderBy: { seq: "asc" } });
}

describe("provisioning cycle", () => {
  test("the initial cycle provisions exactly the in-scope users and assigned groups", async () => {
    const summary = await runCycle();
    expect(summary).toMatchObject({ status: "succeeded", type: "initial" });
    expect(summary.counts?.failed).toBe(0);

    const directory = sandbox.graph.directory;
    const seed = describeSeed(directory);
    const mapping = defaultDialpadMapping().users;
    for (const id of seed.inScopeUserIds) {
      const user = directory.getUser(id)!;
      const found = dialpadUser(user.userPrincipalName);
      expect(found, user.userPrincipalName).toBeDefined();
      const source = toEntraUser(user as unknown as GraphUser, {
        isSoftDeleted: user.accountEnabled === false,
      });
      // The mapping's own diff between Entra and Dialpad must be empty: Dialpad holds the mapping's output.
      const patch = buildPatch(mapping, source, sandbox.dialpad.company.toScimUser(found!));
      expect(patch.operations, user.userPrincipalName).toEqual([]);
    }
    for (const id of seed.outOfScopeUserIds) {
      expect(dialpadUser(directory.getUser(id)!.userPrincipalName), id).toBeUndefined();
    }
    expect(dialpadUser(SEED_USERS.defaultAccessOnly.upn)).toBeUndefined();
    expect(dialpadUser(SEED_USERS.nestedOnly.upn)).toBeUndefined();
    expect(dialpadUser(SEED_USERS.softDeleted.upn)).toBeUndefined();
    expect(sandbox.dialpad.company.users.size).toBe(seed.inScopeUserIds.length);
    const zoe = sandbox.dialpad.company.toScimUser(dialpadUser(SEED_USERS.zoe.upn)!);
    expect(zoe).toMatchObject({ name: { givenName: "Zoë", familyName: "Ångström" }, active: true });
    expect(sandbox.dialpad.company.toScimUser(dialpadUser(SEED_USERS.disabled.upn)!)).toMatchObject({
      active: false,
    });

    // Assigned groups (not Default Access, not merely nested) exist with their direct in-scope members.
    const assigned = [SEED_GROUPS.dialpadUsers, SEED_GROUPS.dialpadAdmins, SEED_GROUPS.dialpadSupport];
    expect([...sandbox.dialpad.company.groups.values()].map((group) => group.displayName).sort()).toEqual(
      assigned.map((group) => group.displayName).sort(),
    );
    let members = 0;
    for (const group of assigned) {
      const expected = directory
        .listMembers(group.id)
        .filter((member) => member.type === "user" && seed.inScopeUserIds.includes(member.id))
        .map((member) => dialpadUser(directory.getUser(member.id)!.userPrincipalName)!.id)
        .sort();
      expect([...dialpadGroup(group.displayName)!.members].sort(), group.displayName).toEqual(expected);
      members += expected.length;
    }
    expect(members).toBeGreaterThan(10);
    expect([...dialpadGroup("Dialpad Users")!.members]).toContain(dialpadUser(SEED_USERS.jose.upn)!.id);
    expect([...dialpadGroup("Dialpad Support")!.members]).not.toContain(
      dialpadUser(SEED_USERS.nestedOnly.upn)?.id ?? "none",
    );

    expect(summary.counts).toMatchObject({ created: seed.inScopeUserIds.length + assigned.length });
    const logs = await logsOf(summary.cycleId);
    expect(logs.filter((log) => log.action === "Create" && log.status === "Success")).toHaveLength(
      seed.inScopeUserIds.length + assigned.length,
    );
    // Default Access users are explained in the log; merely unassigned ones are not logged at all.
    expect(logs.find((log) => log.sourceId === SEED_USERS.defaultAccessOnly.id)).toMatchObject({
      status: "Skipped",
      action: "Other",
    });
    expect(logs.find((log) => log.sourceId === SEED_USERS.unassigned.id)).toBeUndefined();
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection.usersDeltaLink).toBeTruthy();
    expect(connection.groupsDeltaLink).toBeTruthy();
    const cycle = await t.db.cycle.findUniqueOrThrow({ where: { id: summary.cycleId! } });
    expect(cycle.status).toBe("succeeded");
    expect(cycle.completedUnits).toBe(cycle.totalUnits);
    expect(cycle.counts).toMatchObject({ countEntitled: seed.inScopeUserIds.length + assigned.length });
  });

  test("a cycle with no change in Entra sends no write to Dialpad", async () => {
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    expect(summary).toMatchObject({ status: "succeeded", type: "incremental" });
    expect(writesFrom(start)).toEqual([]);
    // Not even a read per user: the probe is the only request.
    expect(sandbox.dialpad.requests.length - start).toBe(1);
    expect(summary.counts).toMatchObject({ countExported: 0, failed: 0 });
  });

  test("one changed attribute is one PATCH with that attribute only", async () => {
    const oldTitle = sandbox.graph.directory.getUser(SEED_USERS.zoe.id)!.jobTitle;
    sandbox.graph.directory.updateUser(SEED_USERS.zoe.id, { jobTitle: "Head of Diacritics" });
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    const writes = writesFrom(start);
    const zoeId = dialpadUser(SEED_USERS.zoe.upn)!.id;
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ method: "PATCH", path: expect.stringContaining(`/Users/${zoeId}`) });
    expect((writes[0]!.body as { Operations: unknown[] }).Operations).toEqual([
      { op: "Replace", path: "title", value: "Head of Diacritics" },
    ]);
    const log = (await logsOf(summary.cycleId)).find((entry) => entry.sourceId === SEED_USERS.zoe.id);
    expect(log).toMatchObject({ action: "Update", status: "Success", initiatedBy: "System" });
    expect(log?.modifiedProperties).toEqual([
      { displayName: "title", oldValue: oldTitle, newValue: "Head of Diacritics" },
    ]);
  });

  test("a user assigned without any directory change is created (assignments are not in delta)", async () => {
    const upn = SEED_USERS.unassigned.upn;
    expect(dialpadUser(upn)).toBeUndefined();
    sandbox.graph.directory.assign(SEED_USERS.unassigned.id, DIALPAD_USER_ROLE_ID);
    const start = sandbox.dialpad.requests.length;
    await runCycle();
    expect(writesFrom(start).map((request) => request.method)).toEqual(["POST"]);
    expect(dialpadUser(upn)).toBeDefined();
  });

  test("unassigning a user disables it with PATCH active false", async () => {
    sandbox.graph.directory.unassign(SEED_USERS.zoe.id);
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    const writes = writesFrom(start);
    expect(writes).toHaveLength(1);
    expect((writes[0]!.body as { Operations: unknown[] }).Operations).toEqual([
      { op: "Replace", path: "active", value: false },
    ]);
    expect(sandbox.dialpad.company.toScimUser(dialpadUser(SEED_USERS.zoe.upn)!)).toMatchObject({
      active: false,
    });
    expect(
      (await logsOf(summary.cycleId)).find((entry) => entry.sourceId === SEED_USERS.zoe.id),
    ).toMatchObject({
      action: "Disable",
      status: "Success",
    });
    // Disabled once is enough: the next cycle leaves it alone.
    const again = sandbox.dialpad.requests.length;
    await runCycle();
    expect(writesFrom(again)).toEqual([]);
  });

  test("a hard delete in Entra is a DELETE in Dialpad", async () => {
    const dialpadId = dialpadUser(SEED_USERS.admin.upn)!.id;
    sandbox.graph.directory.hardDeleteUser(SEED_USERS.admin.id);
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    expect(writesFrom(start)).toMatchObject([
      { method: "DELETE", path: expect.stringContaining(`/Users/${dialpadId}`) },
    ]);
    expect(dialpadUser(SEED_USERS.admin.upn)).toBeUndefined();
    expect(await t.db.objectLink.count({ where: { connectionId, sourceId: SEED_USERS.admin.id } })).toBe(0);
    expect(
      (await logsOf(summary.cycleId)).find((entry) => entry.sourceId === SEED_USERS.admin.id),
    ).toMatchObject({
      action: "Delete",
      status: "Success",
    });
  });

  test("a cycle sends its disables before its creates and updates: who left loses Dialpad first", async () => {
    const directory = sandbox.graph.directory;
    const assigned = (id: string) => directory.assignmentsOf(id).length > 0;
    const links = await t.db.objectLink.findMany({
      where: { connectionId, objectType: "User" },
      orderBy: { sourceId: "asc" },
    });
    const linked = new Set(links.map((link) => link.sourceId));
    const [updated, leaver] = links
      .filter((link) => link.active)
      .map((link) => link.sourceId)
      .filter((id) => assigned(id) && directory.getUser(id)?.accountEnabled);
    const newcomer = directory
      .listUsers()
      .find(
        (user) =>
          user.accountEnabled &&
          !linked.has(user.id) &&
          !assigned(user.id) &&
          !directory.memberOf(user.id).some(assigned),
      );
    // Made in this order in Entra, the disable last.
    directory.updateUser(updated!, { jobTitle: "Ordered after the leaver" });
    directory.assign(newcomer!.id, DIALPAD_USER_ROLE_ID);
    directory.unassign(leaver!);
    const start = sandbox.dialpad.requests.length;
    await runCycle();
    const writes = writesFrom(start);
    expect(writes.map((request) => request.method).sort()).toEqual(["PATCH", "PATCH", "POST"]);
    expect((writes[0]!.body as { Operations: unknown[] }).Operations).toEqual([
      { op: "Replace", path: "active", value: false },
    ]);
  });

  test("a member added to an assigned group is one PATCH Add on the group", async () => {
    const group = dialpadGroup(SEED_GROUPS.dialpadAdmins.displayName)!;
    const member = dialpadUser(SEED_USERS.noMail.upn)!;
    expect(group.members.has(member.id)).toBe(false);
    sandbox.graph.directory.addMember(SEED_GROUPS.dialpadAdmins.id, SEED_USERS.noMail.id);
    const start = sandbox.dialpad.requests.length;
    await runCycle();
    const writes = writesFrom(start);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      method: "PATCH",
      path: expect.stringContaining(`/Groups/${group.id}`),
    });
    expect((writes[0]!.body as { Operations: unknown[] }).Operations).toEqual([
      { op: "Add", path: "members", value: [{ $ref: null, value: member.id }] },
    ]);
    expect(group.members.has(member.id)).toBe(true);

    sandbox.graph.directory.removeMember(SEED_GROUPS.dialpadAdmins.id, SEED_USERS.noMail.id);
    const removal = sandbox.dialpad.requests.length;
    await runCycle();
    expect((writesFrom(removal)[0]?.body as { Operations: unknown[] }).Operations).toEqual([
      { op: "Remove", path: "members", value: [{ $ref: null, value: member.id }] },
    ]);
    expect(group.members.has(member.id)).toBe(false);
  });

  test("a member whose Dialpad account was deleted by hand and created again is added to its group again", async () => {
    const group = dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)!;
    const before = dialpadUser(SEED_USERS.directAndGroup.upn)!;
    expect(group.members.has(before.id)).toBe(true);
    sandbox.dialpad.company.deleteUser(before.id);
    // A change in Entra makes the next cycle PATCH the user, find it gone and create it again.
    sandbox.graph.directory.updateUser(SEED_USERS.directAndGroup.id, { jobTitle: "Came Back" });
    const start = sandbox.dialpad.requests.length;
    await runCycle();
    const again = dialpadUser(SEED_USERS.directAndGroup.upn)!;
    expect(again.id).not.toBe(before.id);
    // The membership exported for the old account does not count for the new one.
    expect(group.members.has(again.id)).toBe(true);
    expect(writesFrom(start).filter((write) => write.path.includes(`/Groups/${group.id}`))).toEqual([
      expect.objectContaining({
        method: "PATCH",
        body: expect.objectContaining({
          Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: again.id }] }],
        }),
      }),
    ]);
    // Recorded for the new account: the cycle after sends nothing more.
    const quiet = sandbox.dialpad.requests.length;
    await runCycle();
    expect(writesFrom(quiet)).toEqual([]);
  });

  test("a group deleted in Dialpad by hand is created again by a restarted cycle, with its members", async () => {
    const before = dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)!;
    const members = [...before.members].sort();
    expect(members.length).toBeGreaterThan(0);
    sandbox.dialpad.company.deleteGroup(before.id);
    // Restart keeps the links; the full cycle lists Dialpad and finds the linked group gone.
    await applyRestartCriteria(t.db, connectionId, []);
    await runCycle();
    const again = dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)!;
    expect(again.id).not.toBe(before.id);
    // The members exported to the deleted group are not taken as the new group's.
    expect([...again.members].sort()).toEqual(members);
  });

  test("while a cycle runs, the status counts what its provisioning log holds so far", async () => {
    const running = await t.db.cycle.create({
      data: { connectionId, type: "incremental", status: "running", trigger: "start" },
    });
    try {
      const entry = {
        connectionId,
        cycleId: running.id,
        objectType: "User",
        durationMs: 1,
        initiatedBy: "System",
      };
      await t.db.provisioningLog.createMany({
        data: [
          { ...entry, changeId: crypto.randomUUID(), action: "Create", status: "Success" },
          { ...entry, changeId: crypto.randomUUID(), action: "Create", status: "Success" },
          { ...entry, changeId: crypto.randomUUID(), action: "Update", status: "Success" },
          { ...entry, changeId: crypto.randomUUID(), action: "Create", status: "Failure" },
          { ...entry, changeId: crypto.randomUUID(), action: "Other", status: "Skipped" },
        ],
      });
      const status = await getProvisioningStatus(t.db, connectionId);
      expect(status.lastCycle).toMatchObject({
        id: running.id,
        countsSoFar: true,
        counts: { created: 2, updated: 1, disabled: 0, deleted: 0, failed: 1, skipped: 1 },
      });
    } finally {
      await t.db.cycle.update({
        where: { id: running.id },
        data: { status: "stopped", endedAt: new Date(), counts: {} },
      });
    }
    expect((await getProvisioningStatus(t.db, connectionId)).lastCycle).toMatchObject({ countsSoFar: false });
  });

  test("a group renamed in Entra is not renamed in Dialpad, and the log says why", async () => {
    sandbox.graph.directory.renameGroup(SEED_GROUPS.dialpadSupport.id, "Customer Support");
    const start = sandbox.dialpad.requests.length;
    const summary = await runCycle();
    expect(writesFrom(start)).toEqual([]);
    expect(dialpadGroup(SEED_GROUPS.dialpadSupport.displayName)).toBeDefined();
    const log = (await logsOf(summary.cycleId)).find(
      (entry) => entry.sourceId === SEED_GROUPS.dialpadSupport.id,
    );
    expect(log).toMatchObject({ action: "Other", status: "Skipped", errorCode: "GroupRenameNotSupported" });
    expect(log?.errorReason).toMatch(/does not support renaming groups.*Customer Support/);
    // Reported once, not every cycle.
    const next = await runCycle();
    expect(
      (await logsOf(next.cycleId)).find((entry) => entry.sourceId === SEED_GROUPS.dialpadSupport.id),
    ).toBeUndefined();
  });

  test("a dry run plans without writing anything, and the status reports the last real cycle", async () => {
    sandbox.graph.directory.updateUser(SEED_USERS.jose.id, { jobTitle: "Planner" });
    const start = sandbox.dialpad.requests.length;
    const before = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const dry = await runProvisioningCycle(
      t.db,
      box,
      { connectionId, jobId: null, trigger: "start", dryRun: true },
      { mailer: null, requestsPerSecond: 1_000 },
    );
    expect(writesFrom(start)).toEqual([]);
    expect(dry.plan?.operations).toContainEqual(
      expect.objectContaining({
        kind: "update",
        sourceId: SEED_USERS.jose.id,
        operations: [{ op: "Replace", path: "title", value: "Planner" }],
      }),
    );
    expect(await logsOf(dry.cycleId)).toEqual([]);
    const after = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(after.usersDeltaLink).toBe(before.usersDeltaLink);
    const status = await getProvisioningStatus(t.db, connectionId);
    expect(status.lastCycle?.dryRun).toBe(false);
    expect(status.synchronizedEntryCountByType.Group).toBe(3);

    // The change the dry run saw is still there for the real cycle.
    const real = await runCycle();
    expect(real.counts?.updated).toBe(1);
  });

  test("through a worker: the job runs the cycle, its finalizer ends it and queues the next one", async () => {
    sandbox.graph.directory.updateUser(SEED_USERS.jose.id, { jobTitle: "Worker Title" });
    const silent = { info() {}, warn() {}, error() {} };
    const worker = new JobWorker({
      db: t.db,
      databaseUrl: t.url,
      log: silent,
      pollIntervalMs: 50,
      handlers: createJobHandlers({
        db: t.db,
        log: silent,
        cycle: { mailer: null, requestsPerSecond: 1_000 },
      }),
    });
    await worker.start();
    try {
      const { planner: job, cycle } = await startCycleAndWaitForEnd(t.db, connectionId, 20_000);
      expect(cycle).toMatchObject({
        status: "succeeded",
        jobId: job.id,
        counts: expect.objectContaining({ updated: 1 }),
      });
      const next = await t.db.job.findFirstOrThrow({
        where: { connectionId, kind: "provisioning-cycle", status: "queued" },
      });
      expect(next.runAt.getTime() - Date.now()).toBeGreaterThan(35 * 60_000);
    } finally {
      await worker.stop(1_000);
    }
    expect(sandbox.dialpad.company.toScimUser(dialpadUser(SEED_USERS.jose.upn)!)).toMatchObject({
      title: "Worker Title",
    });
  });

  test("a user Graph lists twice in one round (changed while it was paged) ends in its newer state, sent once", async () => {
    await applyRestartCriteria(t.db, connectionId, ["Watermark"]);
    const seed = describeSeed(sandbox.graph.directory);
    // The first in-scope user in Graph's order is on the round's first page.
    const early = sandbox.graph.directory.listUsers().find((user) => seed.inScopeUserIds.includes(user.id))!;
    // Gone from Dialpad, so its first decision is a create: deciding the repeat too would create it twice.
    sandbox.dialpad.company.deleteUser(dialpadUser(early.userPrincipalName)!.id);
    const graphStart = sandbox.graph.requests.length;
    const start = sandbox.dialpad.requests.length;
    const running = runCycle();
    while (!sandbox.graph.requests.slice(graphStart).some((request) => request.path.includes("/users/delta")))
      await new Promise((resolve) => setTimeout(resolve, 2));
    sandbox.graph.directory.updateUser(early.id, { jobTitle: "Changed Mid-Round" });
    const summary = await running;
    expect(summary).toMatchObject({ status: "succeeded", type: "initial" });

    const target = dialpadUser(early.userPrincipalName)!;
    expect(sandbox.dialpad.company.toScimUser(target)).toMatchObject({ title: "Changed Mid-Round" });
    const posts = writesFrom(start).filter(
      (request) => request.method === "POST" && request.path.endsWith("/Users"),
    );
    expect(posts).toHaveLength(1);
    expect(writesFrom(start).filter((request) => request.path.includes(target.id))).toEqual([]);
    const entries = (await logsOf(summary.cycleId)).filter((entry) => entry.sourceId === early.id);
    expect(entries.map((entry) => `${entry.action}/${entry.status}`)).toEqual(["Create/Success"]);
  });

  test("a preview of such a round shows the user once, in its newer state, though its first row was written", async () => {
    await applyRestartCriteria(t.db, connectionId, ["Watermark"]);
    const seed = describeSeed(sandbox.graph.directory);
    const early = sandbox.graph.directory.listUsers().find((user) => seed.inScopeUserIds.includes(user.id))!;
    sandbox.dialpad.company.deleteUser(dialpadUser(early.userPrincipalName)!.id);
    const preview = await t.db.planPreview.create({
      data: { connectionId, requestedBy: "admin@contoso.example" },
    });
    const graphStart = sandbox.graph.requests.length;
    const running = runProvisioningCycle(
      t.db,
      box,
      { connectionId, jobId: null, trigger: "preview", dryRun: true, previewId: preview.id },
      // Small pages: the first decision is in the preview's rows before Graph lists the user again.
      { mailer: null, requestsPerSecond: 1_000, previewPageSize: 5 },
    );
    while (!sandbox.graph.requests.slice(graphStart).some((request) => request.path.includes("/users/delta")))
      await new Promise((resolve) => setTimeout(resolve, 2));
    sandbox.graph.directory.updateUser(early.id, { jobTitle: "Previewed Mid-Round" });
    expect(await running).toMatchObject({ status: "succeeded", dryRun: true });

    const rows = await t.db.planPreviewOperation.findMany({ where: { previewId: preview.id } });
    const ofEarly = rows.filter((row) => (row.data as { sourceId: string }).sourceId === early.id);
    expect(ofEarly.map((row) => row.kind)).toEqual(["create"]);
    expect(JSON.stringify(ofEarly[0]!.data)).toContain("Previewed Mid-Round");
    const { summary } = await t.db.planPreview.findUniqueOrThrow({ where: { id: preview.id } });
    const creates = rows.filter(
      (row) => row.kind === "create" && (row.data as { objectType: string }).objectType === "User",
    );
    expect(summary).toMatchObject({ impact: { counts: { create: { users: creates.length } } } });
  });
});
