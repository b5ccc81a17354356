import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { JobWorker } from "@/lib/jobs/runner";
import { waitForJob } from "@/lib/jobs/wait";
import { runReconcileAction, type ReconcileActionRequest } from "@/lib/server/reconcile-actions";
import { SecretBox } from "@/lib/crypto/secrets";
import { ZReconcileActionResult, ZReconcileExportJson } from "@/lib/contracts/reconcile";
import {
  exportReconcileFindings,
  listReconcileFindings,
  requestReconcile,
  type ReconcileFindingDto,
  type ReconcileRunDto,
} from "@/lib/server/reconcile";
import type { DialpadUser } from "@/sandbox/dialpad/company";
import { addHandMadeUsers, HAND_EDITED_TITLE, HAND_MADE_USERS } from "@/sandbox/dialpad/by-hand";
import { CORE_GROUP, PATCH_OP } from "@/sandbox/dialpad/urns";
import { SANDBOX_DIALPAD_KEY } from "@/sandbox/dialpad/server";
import { SEED_GROUPS, SEED_USERS } from "@/sandbox/graph/seed";
import { type RunningSandbox } from "@/sandbox/main";
import { contractViolations } from "./contract-check";
import type { TestDatabase } from "./database";
import {
  startCycleAndWaitForEnd,
  startEngineHarness,
  TEST_ADMIN,
  startSandboxWorker,
} from "./engine-harness";

/**
 * The reconcile report against the Dialpad and Graph emulators, computed by a job worker on a real
 * PostgreSQL: after a cycle, Dialpad is changed behind Entra's back (users created by hand, a title
 * edited, a user deleted, one suspended, a userName taken), and the report names each of them.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let worker: JobWorker;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "reconcile", secretKey }));
  worker = await startSandboxWorker({ t, sandbox, workerId: "reconcile-worker", concurrency: 2 });
  await startCycleAndWaitForEnd(t.db, connectionId);
  // A webhook subscribed to reconcile.finished only; nothing listens at the discard port, and the tests
  // read the queued events from the job table (delivery itself is test/webhooks.test.ts's).
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      webhookUrl: "http://127.0.0.1:9/hooks",
      webhookSecretCipher: box.seal("reconcile-webhook-secret", connectionId),
      webhookEvents: ["reconcile.finished"],
    },
  });
  // The next scheduled cycle would repair what the tests break on purpose.
  await t.db.job.deleteMany({ where: { connectionId, kind: "provisioning-cycle", status: "queued" } });
}, 120_000);

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

async function reconcile(): Promise<ReconcileRunDto> {
  const queued = await requestReconcile(t.db, connectionId, TEST_ADMIN);
  const run = await t.db.reconcileRun.findUniqueOrThrow({ where: { id: queued.id } });
  const job = await waitForJob(t.db, run.jobId!, { timeoutMs: 60_000 });
  expect(job.status, String(job.lastError)).toBe("succeeded");
  const page = await listReconcileFindings(t.db, connectionId, { runId: queued.id, limit: 1 });
  return page.run!;
}

/** The reconcile.finished events queued for a run (the webhook job's payload). */
async function reconcileEvents(runId: string) {
  const jobs = await t.db.job.findMany({ where: { connectionId, kind: "webhook" } });
  return jobs
    .map((job) => (job.payload as { event: { type: string; data: Record<string, unknown> } }).event)
    .filter((event) => event.type === "reconcile.finished" && event.data.runId === runId);
}

async function allFindings(
  query: Parameters<typeof listReconcileFindings>[2] extends infer Q ? Partial<Q> : never,
) {
  const items: ReconcileFindingDto[] = [];
  let cursor: string | undefined;
  do {
    const page = await listReconcileFindings(t.db, connectionId, { limit: 7, ...query, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const company = () => sandbox.dialpad.company;
const dialpadUserOf = async (sourceId: string): Promise<DialpadUser> => {
  const link = await t.db.objectLink.findUniqueOrThrow({
    where: { connectionId_objectType_sourceId: { connectionId, objectType: "User", sourceId } },
  });
  return company().getUser(link.targetId);
};
const patchByHand = (id: string, path: string, value: unknown) =>
  company().patchUser(id, { schemas: [PATCH_OP], Operations: [{ op: "replace", path, value }] });

describe("reconcile report", () => {
  test("right after a cycle, Dialpad holds nothing unmanaged and nothing drifted", async () => {
    const run = await reconcile();
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ users: {}, groups: {}, driftedUsers: 0 });
    expect(await allFindings({ category: "orphan" })).toEqual([]);
    expect(await allFindings({ category: "drifted" })).toEqual([]);
    expect(await allFindings({ category: "missing" })).toEqual([]);
    expect(run.read.dialpadUsers).toBe(company().users.size);
    // Listing Dialpad costs one request per 100 users (plus the groups' listing), and reading the
    // members of a linked group one request each.
    const linkedGroups = await t.db.objectLink.count({ where: { connectionId, objectType: "Group" } });
    expect(run.read.dialpadRequests).toBeLessThanOrEqual(
      Math.ceil(company().users.size / 100) + 2 + linkedGroups,
    );
    // Nothing found, nothing to tell a receiver.
    expect(await reconcileEvents(run.id)).toEqual([]);
  });

  test("orphans, a drifted title, a deleted, a suspended user and a userName collision are each named", async () => {
    const handMade = addHandMadeUsers(company());
    expect(handMade).toHaveLength(HAND_MADE_USERS.length);
    const zoe = await dialpadUserOf(SEED_USERS.zoe.id);
    const zoeTitle = zoe.attributes.title;
    patchByHand(zoe.id, "title", "Chief Hand Editor");
    const jose = await dialpadUserOf(SEED_USERS.jose.id);
    company().deleteUser(jose.id);
    const ada = await dialpadUserOf(SEED_USERS.admin.id);
    patchByHand(ada.id, "active", false);
    // Alex's Dialpad account is renamed by hand, and a new account takes Alex's userName.
    const alex = await dialpadUserOf(SEED_USERS.duplicateA.id);
    patchByHand(alex.id, "userName", "alex.kim.old@contoso.example");
    const impostor = addHandMadeUsersNamed(SEED_USERS.duplicateA.upn);

    const run = await reconcile();
    const orphans = await allFindings({ category: "orphan", objectType: "User" });
    const byName = new Map(orphans.map((finding) => [finding.target.name?.toLowerCase(), finding]));
    expect(orphans).toHaveLength(HAND_MADE_USERS.length + 1);
    expect(byName.get("front.desk@contoso.example")).toMatchObject({
      reason: "neverLinked",
      target: { active: true },
      source: { id: null },
    });
    expect(byName.get("conference.room@contoso.example")).toMatchObject({ reason: "neverLinked" });
    expect(byName.get(SEED_USERS.unassigned.upn)).toMatchObject({
      reason: "collides",
      source: { id: SEED_USERS.unassigned.id },
      detail: expect.stringMatching(/userName equals the matching value of Entra user .*not linked/),
    });
    expect(byName.get(SEED_USERS.duplicateA.upn)).toMatchObject({
      reason: "collides",
      target: { id: impostor.id },
      source: { id: SEED_USERS.duplicateA.id },
      detail: expect.stringContaining(`linked to another Dialpad user (${alex.id})`),
    });

    const drifted = await allFindings({ category: "drifted" });
    expect(drifted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          attribute: "title",
          dialpadValue: "Chief Hand Editor",
          desiredValue: zoeTitle,
          target: expect.objectContaining({ id: zoe.id }),
          source: expect.objectContaining({ id: SEED_USERS.zoe.id }),
        }),
        expect.objectContaining({
          attribute: "userName",
          dialpadValue: "alex.kim.old@contoso.example",
          desiredValue: SEED_USERS.duplicateA.upn,
          target: expect.objectContaining({ id: alex.id }),
        }),
      ]),
    );
    expect(drifted).toHaveLength(2);
    // A suspension is its own category, not an attribute drift.
    expect(drifted.some((finding) => finding.attribute === "active")).toBe(false);

    expect(await allFindings({ category: "missing" })).toEqual([
      expect.objectContaining({ objectType: "User", target: expect.objectContaining({ id: jose.id }) }),
    ]);
    expect(await allFindings({ category: "suspendedInDialpad" })).toEqual([
      expect.objectContaining({ source: expect.objectContaining({ id: SEED_USERS.admin.id }) }),
    ]);
    expect(run.counts).toMatchObject({
      users: { orphan: 4, drifted: 2, missing: 1, suspendedInDialpad: 1 },
      driftedUsers: 2,
    });
    // One reconcile.finished event, with the report's counts: 4 orphans, 2 drifted users, 1 missing,
    // 1 suspended.
    expect(await reconcileEvents(run.id)).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ runId: run.id, findings: 8, counts: run.counts }),
      }),
    ]);
  });

  test("filters narrow the report and the export holds exactly the filtered findings", async () => {
    const collisions = await allFindings({ reason: "collides" });
    expect(collisions.map((finding) => finding.target.name).sort()).toEqual(
      [SEED_USERS.duplicateA.upn, SEED_USERS.unassigned.upn].sort(),
    );
    expect(await allFindings({ attribute: "TITLE" })).toHaveLength(1);
    expect(await allFindings({ search: "front.desk" })).toHaveLength(1);

    const csv = await new Response(
      exportReconcileFindings(t.db, connectionId, { category: "orphan" }, "csv"),
    ).text();
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toContain('"Orphan reason"');
    expect(lines).toHaveLength(1 + 4);
    expect(csv).toContain('"front.desk@contoso.example"');
    const json = JSON.parse(
      await new Response(exportReconcileFindings(t.db, connectionId, {}, "json")).text(),
    ) as ReconcileFindingDto[];
    expect(json).toHaveLength((await allFindings({})).length);
    expect(contractViolations(ZReconcileExportJson, json)).toEqual([]);
  });

  test("a Dialpad user whose Entra user lost its link is reported as link lost", async () => {
    // Provisioned by this connection (its log names the Dialpad id), then the link was removed and the
    // Dialpad account renamed, so no matching attribute leads back to an Entra user either.
    const mo = await dialpadUserOf(SEED_USERS.mailDiffers.id);
    patchByHand(mo.id, "userName", "mo.former@contoso.example");
    await t.db.objectLink.delete({
      where: {
        connectionId_objectType_sourceId: {
          connectionId,
          objectType: "User",
          sourceId: SEED_USERS.mailDiffers.id,
        },
      },
    });
    await reconcile();
    const [lost] = await allFindings({ category: "orphan", search: "mo.former" });
    expect(lost).toMatchObject({ reason: "linkLost", target: { id: mo.id } });
  });
});

describe("reconcile actions: each does what its preview said", () => {
  const act = (request: ReconcileActionRequest) =>
    runReconcileAction(t.db, box, connectionId, request, TEST_ADMIN);
  const patchesSince = (from: number) =>
    sandbox.dialpad.requests
      .slice(from)
      .filter((request) => request.method === "PATCH" && request.path.startsWith("/scim/Users/"))
      .map((request) => ({
        id: request.path.slice("/scim/Users/".length),
        operations: (
          (request.body as { Operations: { op: string; path: string; value?: unknown }[] }).Operations ?? []
        ).map((operation) => ({ ...operation, op: operation.op.toLowerCase() })),
      }));
  const writesSince = (from: number) =>
    sandbox.dialpad.requests.slice(from).filter((request) => request.method !== "GET");

  test("adopting a link-lost orphan writes the link and nothing to Dialpad", async () => {
    const [lost] = await allFindings({ reason: "linkLost" });
    const preview = await act({ action: "adoptOrphan", findingIds: [lost!.id], dryRun: true });
    expect(preview.planned).toEqual([
      expect.objectContaining({
        targetId: lost!.target.id,
        sourceId: SEED_USERS.mailDiffers.id,
        request: null,
      }),
    ]);
    const before = sandbox.dialpad.requests.length;
    const applied = await act({ action: "adoptOrphan", findingIds: [lost!.id], dryRun: false });
    expect(applied.applied).toMatchObject({ succeeded: 1, failed: 0 });
    expect(writesSince(before)).toEqual([]);
    const link = await t.db.objectLink.findUniqueOrThrow({
      where: {
        connectionId_objectType_sourceId: {
          connectionId,
          objectType: "User",
          sourceId: SEED_USERS.mailDiffers.id,
        },
      },
    });
    expect(link.targetId).toBe(lost!.target.id);
    expect(
      await t.db.provisioningLog.count({
        where: { connectionId, targetId: lost!.target.id, action: "Other", initiatedBy: TEST_ADMIN.upn },
      }),
    ).toBe(1);
    await expect(act({ action: "adoptOrphan", findingIds: [lost!.id], dryRun: false })).rejects.toThrow(
      /None of these findings/,
    );
  });

  test("re-applying drift sends exactly the previewed PATCHes through on demand, and logs them", async () => {
    const zoeTitle = (await allFindings({ attribute: "title" }))[0]!;
    const [suspended] = await allFindings({ category: "suspendedInDialpad" });
    const findingIds = [zoeTitle.id, suspended!.id];
    const preview = await act({ action: "reapplyDrift", findingIds, dryRun: true });
    expect(preview.planned.map((change) => change.request?.operations)).toEqual([
      [{ op: "replace", path: "title", value: zoeTitle.desiredValue }],
      [{ op: "replace", path: "active", value: true }],
    ]);
    const before = sandbox.dialpad.requests.length;
    const logsBefore = await t.db.provisioningLog.count({ where: { connectionId, action: "Update" } });
    const applied = await act({ action: "reapplyDrift", findingIds, dryRun: false });
    expect(applied.applied).toMatchObject({ succeeded: 2, failed: 0 });
    // What the console receives (serialized as the route sends it) keeps the declared contract.
    for (const result of [preview, applied])
      expect(contractViolations(ZReconcileActionResult, JSON.parse(JSON.stringify(result)))).toEqual([]);
    // The same PATCHes; the action runs its changes a few at a time, so their order is Dialpad's.
    const byId = (a: { id: string | null }, b: { id: string | null }) =>
      String(a.id).localeCompare(String(b.id));
    expect(patchesSince(before).sort(byId)).toEqual(
      preview.planned
        .map((change) => ({ id: change.targetId, operations: change.request!.operations }))
        .sort(byId),
    );
    expect(company().getUser(zoeTitle.target.id!).attributes.title).toBe(zoeTitle.desiredValue);
    expect(company().isActive(company().getUser(suspended!.target.id!))).toBe(true);
    expect(await t.db.provisioningLog.count({ where: { connectionId, action: "Update" } })).toBe(
      logsBefore + 2,
    );
  });

  test("recreating a missing user provisions it again on demand: one new Dialpad user, linked", async () => {
    const [missing] = await allFindings({ category: "missing" });
    const preview = await act({ action: "recreateMissing", dryRun: true });
    expect(preview.planned).toEqual([
      expect.objectContaining({ findingId: missing!.id, sourceId: SEED_USERS.jose.id, request: null }),
    ]);
    const before = sandbox.dialpad.requests.length;
    const applied = await act({ action: "recreateMissing", dryRun: false });
    expect(applied.applied).toMatchObject({ succeeded: 1, failed: 0 });
    const writes = writesSince(before);
    expect(writes.map((request) => `${request.method} ${request.path}`)).toEqual(["POST /scim/Users"]);
    expect(writes[0]!.body).toMatchObject({ userName: SEED_USERS.jose.upn });
    const recreated = await dialpadUserOf(SEED_USERS.jose.id);
    expect(recreated.id).not.toBe(missing!.target.id);
    expect(
      await t.db.provisioningLog.count({
        where: { connectionId, targetId: recreated.id, action: "Create", status: "Success" },
      }),
    ).toBe(1);
  });

  test("suspending orphans holds above the deletion threshold, then suspends exactly the previewed users", async () => {
    await t.db.connection.update({
      where: { id: connectionId },
      data: { preventAccidentalDeletes: true, deletionThreshold: 2, requireApprovalForDeletions: false },
    });
    const preview = await act({ action: "suspendOrphans", dryRun: true });
    const orphanIds = (await allFindings({ category: "orphan", objectType: "User" }))
      .filter((finding) => finding.target.active)
      .map((finding) => finding.target.id);
    expect(preview.planned.map((change) => change.targetId)).toEqual(orphanIds);
    expect(preview.planned).toHaveLength(4);
    expect(preview.summary).toBe("Suspend 4 Dialpad users (active=false; nothing is deleted)");
    expect(preview.threshold).toEqual({ limit: 2, needsConfirmation: true });

    const before = sandbox.dialpad.requests.length;
    await expect(act({ action: "suspendOrphans", dryRun: false })).rejects.toThrow(
      /exceeds the deletion threshold of 2/,
    );
    expect(writesSince(before)).toEqual([]);

    const applied = await act({ action: "suspendOrphans", dryRun: false, confirm: true });
    expect(applied.applied).toMatchObject({ succeeded: 4, failed: 0, skipped: 0 });
    expect(writesSince(before).every((request) => request.method === "PATCH")).toBe(true);
    expect(patchesSince(before)).toEqual(
      preview.planned.map((change) => ({ id: change.targetId, operations: change.request!.operations })),
    );
    for (const id of orphanIds) expect(company().isActive(company().getUser(id!))).toBe(false);
    const logs = await t.db.provisioningLog.findMany({
      where: { connectionId, action: "Disable", initiatedBy: TEST_ADMIN.upn },
    });
    expect(logs.map((log) => log.targetId).sort()).toEqual([...orphanIds].sort());
    expect(logs.every((log) => log.status === "Success")).toBe(true);
    expect(await t.db.auditEntry.count({ where: { connectionId, activity: "Reconcile action" } })).toBe(4);
    // Nothing left to suspend: the report remembers they are suspended now.
    expect((await act({ action: "suspendOrphans", dryRun: true })).planned).toEqual([]);
  });
});

describe("the sandbox hub's Change Dialpad by hand button", () => {
  test("edits a provisioned user behind Entra's back, and the next report shows the drift", async () => {
    const page = await (await fetch(sandbox.runtime.hubUrl)).text();
    const token = /action="\/dialpad\/by-hand"><input type="hidden" name="token" value="([^"]+)"/.exec(
      page,
    )?.[1];
    expect(token).toBeDefined();
    // Any web page could post a form to the hub: without the hub's token nothing changes.
    const forged = await fetch(`${sandbox.runtime.hubUrl}/dialpad/by-hand`, {
      method: "POST",
      body: new URLSearchParams({ token: "forged" }),
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    const response = await fetch(`${sandbox.runtime.hubUrl}/dialpad/by-hand`, {
      method: "POST",
      body: new URLSearchParams({ token: token! }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    const hub = await (await fetch(sandbox.runtime.hubUrl)).text();
    expect(hub).toContain(`set to &quot;${HAND_EDITED_TITLE}&quot;`);
    await reconcile();
    expect(await allFindings({ attribute: "title" })).toEqual(
      expect.arrayContaining([expect.objectContaining({ dialpadValue: HAND_EDITED_TITLE })]),
    );
    expect((await allFindings({ category: "suspendedInDialpad" })).length).toBeGreaterThanOrEqual(1);
    // A group lost a member: a drifted group, the member missing from it.
    expect(hub).toMatch(/removed from group /);
    expect(await allFindings({ category: "drifted", objectType: "Group" })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ attribute: "members", dialpadValue: null, member: expect.anything() }),
      ]),
    );
  });
});

describe("a report after each full cycle", () => {
  test("is queued by a full cycle when the setting is on, and not by an incremental one", async () => {
    const systemReports = () =>
      t.db.reconcileRun.findMany({ where: { connectionId, requestedBy: "System" } });
    await t.db.connection.update({ where: { id: connectionId }, data: { reconcileAfterFullCycle: true } });
    const { cycle: incremental } = await startCycleAndWaitForEnd(t.db, connectionId);
    expect(incremental.type).toBe("incremental");
    expect(await systemReports()).toEqual([]);
    // Without its watermarks the next cycle reads everything again: a full cycle.
    await t.db.connection.update({
      where: { id: connectionId },
      data: { usersDeltaLink: null, groupsDeltaLink: null },
    });
    const { cycle: full } = await startCycleAndWaitForEnd(t.db, connectionId);
    expect(full.type).toBe("initial");
    const [report] = await systemReports();
    expect(report).toBeDefined();
    const job = await waitForJob(t.db, report!.jobId!, { timeoutMs: 60_000 });
    expect(job.status, String(job.lastError)).toBe("succeeded");
    const page = await listReconcileFindings(t.db, connectionId, { runId: report!.id, limit: 1 });
    expect(page.run).toMatchObject({ status: "succeeded", requestedBy: "System" });
    expect(page.run!.read.dialpadUsers).toBe(company().users.size);
  }, 120_000);
});

function addHandMadeUsersNamed(userName: string): DialpadUser {
  return company().createUser({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName,
    name: { givenName: "Hand", familyName: "Made" },
    active: true,
  });
}

describe("the findings e-mail", () => {
  test("goes to the notification address when a report finds new orphans, once; the same findings again send nothing", async () => {
    const ALERTS = "reconcile-alerts@contoso.example";
    const alerts = () => sandbox.mail.messages.filter((message) => message.to.includes(ALERTS));
    await t.db.connection.update({
      where: { id: connectionId },
      data: { notificationEmail: ALERTS, reconcileAlertEmail: false },
    });
    // Off: a report that finds something mails nothing.
    company().createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "made.by.hand.alert1@contoso.example",
      active: true,
    });
    const before = await reconcile();
    expect(before.counts).toMatchObject({ users: { orphan: expect.any(Number) } });
    expect(alerts()).toEqual([]);

    await t.db.connection.update({ where: { id: connectionId }, data: { reconcileAlertEmail: true } });
    company().createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "made.by.hand.alert2@contoso.example",
      active: true,
    });
    const grown = await reconcile();
    const orphans = (grown.counts as { users: Record<string, number> }).users.orphan!;
    const mail = await sandbox.mail.waitFor((message) => message.to.includes(ALERTS), 10_000);
    expect(mail.subject).toContain("new orphans or drift");
    expect(mail.text).toContain(`(orphans): ${orphans} (was ${orphans - 1})`);
    expect(mail.text).toContain(grown.id);
    expect(mail.raw).not.toContain(SANDBOX_DIALPAD_KEY);

    // Nothing new since: no second e-mail.
    await reconcile();
    expect(alerts()).toHaveLength(1);
  }, 120_000);
});

describe("group drift", () => {
  const groupLinkOf = (sourceId: string) =>
    t.db.objectLink.findUniqueOrThrow({
      where: { connectionId_objectType_sourceId: { connectionId, objectType: "Group", sourceId } },
    });
  const groupPatch = (id: string, operations: { op: string; path: string; value?: unknown }[]) =>
    company().patchGroup(id, { schemas: [PATCH_OP], Operations: operations });

  test("members and attributes changed in Dialpad are named, and re-applying sends exactly the previewed PATCHes", async () => {
    const group = await groupLinkOf(SEED_GROUPS.dialpadUsers.id);
    const driftOf = async () =>
      (await allFindings({ category: "drifted", objectType: "Group" })).filter(
        (finding) => finding.target.id === group.targetId,
      );
    // The hub's button above took a member out of a group, and no cycle puts it back (cycles compare
    // with what they exported): re-applying the report's drift does, and then nothing is left.
    await reconcile();
    const earlier = await allFindings({ category: "drifted", objectType: "Group" });
    if (earlier.length)
      await runReconcileAction(
        t.db,
        box,
        connectionId,
        { action: "reapplyDrift", findingIds: earlier.map((finding) => finding.id), dryRun: false },
        TEST_ADMIN,
      );
    await reconcile();
    expect(await allFindings({ category: "drifted", objectType: "Group" })).toEqual([]);

    const gabe = await dialpadUserOf(SEED_USERS.directAndGroup.id);
    const zoe = await dialpadUserOf(SEED_USERS.zoe.id);
    addHandMadeUsers(company());
    const frontDesk = [...company().users.values()].find(
      (user) => user.attributes.userName === HAND_MADE_USERS[0].userName,
    )!;
    const userName = (user: DialpadUser) => String(user.attributes.userName);
    expect(company().getGroup(group.targetId).members.has(gabe.id)).toBe(true);
    groupPatch(group.targetId, [
      { op: "remove", path: `members[value eq "${gabe.id}"]` },
      { op: "add", path: "members", value: [{ value: zoe.id }, { value: frontDesk.id }] },
      { op: "replace", path: "externalId", value: "edited-by-hand" },
    ]);

    const run = await reconcile();
    const drift = await driftOf();
    expect(drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          attribute: "externalId",
          dialpadValue: "edited-by-hand",
          desiredValue: SEED_GROUPS.dialpadUsers.id,
        }),
        expect.objectContaining({
          attribute: "members",
          dialpadValue: null,
          desiredValue: userName(gabe),
          member: { targetId: gabe.id, sourceId: SEED_USERS.directAndGroup.id },
        }),
        expect.objectContaining({
          attribute: "members",
          dialpadValue: userName(zoe),
          desiredValue: null,
          member: { targetId: zoe.id, sourceId: SEED_USERS.zoe.id },
        }),
        expect.objectContaining({
          attribute: "members",
          dialpadValue: userName(frontDesk),
          member: { targetId: frontDesk.id, sourceId: null },
          detail: expect.stringContaining("no Entra user is linked to it"),
        }),
      ]),
    );
    expect(drift).toHaveLength(4);
    expect(run.counts.groups.drifted).toBe(1);

    const findingIds = drift.map((finding) => finding.id);
    const act = (dryRun: boolean) =>
      runReconcileAction(t.db, box, connectionId, { action: "reapplyDrift", findingIds, dryRun }, TEST_ADMIN);
    const preview = await act(true);
    // The member nobody manages is reported, never removed.
    expect(preview.planned.map((change) => change.request?.operations)).toEqual([
      [{ op: "replace", path: "externalId", value: SEED_GROUPS.dialpadUsers.id }],
      [{ op: "Add", path: "members", value: [{ $ref: null, value: gabe.id }] }],
      [{ op: "Remove", path: "members", value: [{ $ref: null, value: zoe.id }] }],
    ]);
    expect(preview.summary).toBe("Re-apply the desired values to 1 drifted Dialpad group");

    const groupLogs = () =>
      t.db.provisioningLog.count({
        where: { connectionId, objectType: "Group", targetId: group.targetId, initiatedBy: TEST_ADMIN.upn },
      });
    const logsBefore = await groupLogs();
    const before = sandbox.dialpad.requests.length;
    const applied = await act(false);
    expect(applied.applied).toMatchObject({ succeeded: 2, failed: 0 });
    const sent = sandbox.dialpad.requests
      .slice(before)
      .filter((request) => request.method === "PATCH")
      .map((request) => ({
        path: request.path,
        operations: (request.body as { Operations: { op: string }[] }).Operations.map((operation) => ({
          ...operation,
          op: operation.op.toLowerCase(),
        })),
      }));
    const lower = (operations: { op: string }[]) =>
      operations.map((operation) => ({ ...operation, op: operation.op.toLowerCase() }));
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(sent.sort(byJson)).toEqual(
      preview.planned
        .map((change) => ({
          path: `/scim${change.request!.path}`,
          operations: lower(change.request!.operations),
        }))
        .sort(byJson),
    );
    const after = company().getGroup(group.targetId);
    expect([...after.members].sort()).toEqual(expect.arrayContaining([gabe.id, frontDesk.id].sort()));
    expect(after.members.has(zoe.id)).toBe(false);
    expect(after.externalId).toBe(SEED_GROUPS.dialpadUsers.id);
    // One entry for the group's attributes (on demand), one for its members.
    expect((await groupLogs()) - logsBefore).toBe(2);

    // What is left is the member nobody manages.
    await reconcile();
    expect(await driftOf()).toEqual([
      expect.objectContaining({ member: { targetId: frontDesk.id, sourceId: null } }),
    ]);
  }, 120_000);
});

describe("group orphans and missing groups", () => {
  const act = (request: ReconcileActionRequest) =>
    runReconcileAction(t.db, box, connectionId, request, TEST_ADMIN);
  const groupLink = (sourceId: string) =>
    t.db.objectLink.findUnique({
      where: { connectionId_objectType_sourceId: { connectionId, objectType: "Group", sourceId } },
    });

  test("a Dialpad group named like an unlinked Entra group collides, and adopting it links the two", async () => {
    // "Sales" is not assigned to the app, so no cycle linked it; someone made it in Dialpad by hand.
    const handMade = company().createGroup({ schemas: [CORE_GROUP], displayName: "Sales" });
    await reconcile();
    const [orphan] = (await allFindings({ category: "orphan", objectType: "Group" })).filter(
      (finding) => finding.target.id === handMade.id,
    );
    expect(orphan).toMatchObject({
      reason: "collides",
      source: { id: SEED_GROUPS.sales.id },
      detail: expect.stringMatching(
        /displayName equals the matching value of Entra group Sales, which is not linked/,
      ),
    });
    const preview = await act({ action: "adoptOrphan", findingIds: [orphan!.id], dryRun: true });
    expect(preview.summary).toBe(`Link Dialpad group Sales to Entra group ${SEED_GROUPS.sales.id}`);
    const before = sandbox.dialpad.requests.length;
    expect(
      (await act({ action: "adoptOrphan", findingIds: [orphan!.id], dryRun: false })).applied,
    ).toMatchObject({
      succeeded: 1,
    });
    expect(sandbox.dialpad.requests.slice(before).filter((request) => request.method !== "GET")).toEqual([]);
    expect(await groupLink(SEED_GROUPS.sales.id)).toMatchObject({ targetId: handMade.id });
  });

  test("a linked group deleted in Dialpad is missing, and recreating it creates it again and links it", async () => {
    const link = (await groupLink(SEED_GROUPS.dialpadAdmins.id))!;
    company().deleteGroup(link.targetId);
    await reconcile();
    const [missing] = (await allFindings({ category: "missing", objectType: "Group" })).filter(
      (finding) => finding.target.id === link.targetId,
    );
    expect(missing).toMatchObject({ source: { id: SEED_GROUPS.dialpadAdmins.id } });
    const preview = await act({ action: "recreateMissing", findingIds: [missing!.id], dryRun: true });
    expect(preview.summary).toBe("Recreate 1 missing Dialpad group (provision on demand)");
    const before = sandbox.dialpad.requests.length;
    const applied = await act({ action: "recreateMissing", findingIds: [missing!.id], dryRun: false });
    expect(applied.applied).toMatchObject({ succeeded: 1, failed: 0 });
    const posts = sandbox.dialpad.requests
      .slice(before)
      .filter((request) => request.method === "POST" && request.path === "/scim/Groups");
    expect(posts).toHaveLength(1);
    const relinked = (await groupLink(SEED_GROUPS.dialpadAdmins.id))!;
    expect(relinked.targetId).not.toBe(link.targetId);
    expect(company().getGroup(relinked.targetId).displayName).toBe(SEED_GROUPS.dialpadAdmins.displayName);
  });
});
