import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultDialpadMapping } from "@/lib/mapping/default-dialpad";
import { listLogs, ZLogQuery } from "@/lib/server/logs";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { SEED_GROUPS } from "@/sandbox/graph/seed";
import { waitFor } from "./fixtures";
import { type FaultRig, startFaultRig } from "./fault-rig";

/**
 * Continuous mode (issue 16) with real worker processes: after the first cycle nobody presses Start,
 * and each kind of change made in the Graph emulator reaches the Dialpad emulator on its own, through a
 * poll of Graph's change feeds and the cycle it queues. Two workers run throughout, so a change that
 * were processed twice would show as a second request; one of them is SIGKILLed mid-poll.
 */
const POLL = { fastMs: 200, idleMaxMs: 800 };
let rig: FaultRig;

beforeAll(async () => {
  // A scoping filter as admins write them, so leaving scope by an attribute edit is one of the changes.
  const mappings = defaultDialpadMapping();
  mappings.users.scope = {
    groups: [
      {
        name: "No contractors",
        clauses: [
          {
            operatorName: "NOT EQUALS",
            sourceOperandName: "department",
            targetOperand: { values: ["Contractors"] },
          },
        ],
      },
    ],
  };
  rig = await startFaultRig({
    name: "continuous",
    users: 120,
    connection: { scheduleMode: "continuous", mappings: mappings as object },
  });
  rig.startWorker("w1", { poll: POLL });
  rig.startWorker("w2", { poll: POLL });
  const { cycle } = await rig.startCycle();
  const ended = await rig.waitForCycleEnd(cycle.id);
  expect(ended.status).toBe("succeeded");
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

const db = () => rig.t.db;
const directory = () => rig.sandbox.graph.directory;

async function linkOf(sourceId: string) {
  return db().objectLink.findUnique({
    where: {
      connectionId_objectType_sourceId: { connectionId: rig.connectionId, objectType: "User", sourceId },
    },
  });
}

/** The Dialpad account provisioned for an Entra user, as the emulator holds it now. */
async function dialpadUser(sourceId: string) {
  const link = await linkOf(sourceId);
  return link ? rig.sandbox.dialpad.company.users.get(link.targetId) : undefined;
}

function requestsFor(targetId: string, since: number) {
  return rig.sandbox.dialpad.requests.filter(
    (request) => Date.parse(request.at) >= since && request.path.endsWith(`/Users/${targetId}`),
  );
}

/** Linked, active users assigned directly (not through a group), so one edit touches one account. */
async function directlyAssignedLinkedUsers(): Promise<string[]> {
  const links = await db().objectLink.findMany({
    where: { connectionId: rig.connectionId, objectType: "User", active: true },
    orderBy: { sourceId: "asc" },
  });
  return links
    .map((link) => link.sourceId)
    .filter((id) => directory().assignmentsOf(id).length > 0 && directory().getUser(id)?.accountEnabled);
}

/** Users in the directory that nothing assigns and no link knows: new assignments pick from them. */
async function unassignedUsers(): Promise<string[]> {
  const linked = new Set(
    (await db().objectLink.findMany({ where: { connectionId: rig.connectionId } })).map(
      (link) => link.sourceId,
    ),
  );
  const assigned = (id: string) => directory().assignmentsOf(id).length > 0;
  return directory()
    .listUsers()
    .filter(
      (user) =>
        user.accountEnabled &&
        !linked.has(user.id) &&
        !assigned(user.id) &&
        !directory().memberOf(user.id).some(assigned),
    )
    .map((user) => user.id);
}

async function expectCycleForChange(sourceId: string, action: string | string[]) {
  const actions = typeof action === "string" ? [action] : action;
  const entry = await waitFor(
    () =>
      db().provisioningLog.findFirst({
        where: {
          connectionId: rig.connectionId,
          sourceId,
          action: { in: actions },
          status: { in: ["Success", "Warning"] },
        },
        orderBy: { activityDateTime: "desc" },
      }),
    { what: `a ${actions.join(" or ")} log entry for ${sourceId}` },
  );
  const cycle = await db().cycle.findUniqueOrThrow({ where: { id: entry.cycleId! } });
  expect(cycle.trigger).toBe("change");
  expect(cycle.changeSeenAt).not.toBeNull();
  // The logs API says when the change was seen, next to when Dialpad answered.
  const { items } = await listLogs(db(), rig.connectionId, ZLogQuery.parse({ changeId: entry.changeId }));
  expect(items[0]!.changeSeenAt).toBe(cycle.changeSeenAt!.toISOString());
  return { entry, latencyMs: entry.activityDateTime.getTime() - cycle.changeSeenAt!.getTime() };
}

describe("continuous mode", () => {
  test("the first cycle starts the poll's own feeds, and polls follow without Start", async () => {
    const connection = await waitFor(
      () =>
        db().connection.findFirst({
          where: { id: rig.connectionId, lastPollAt: { not: null }, pollCount: { gte: 2 } },
        }),
      { what: "two polls" },
    );
    expect(connection.assignmentsDeltaLink).toMatch(/directoryObjects\/delta/);
    expect(connection.membersDeltaLink).toMatch(/groups\/delta/);
    expect(connection.lastPollError).toBeNull();
  });

  test("an attribute edit, a disable and a hard delete each reach Dialpad once", async () => {
    const [edited, disabled, deleted] = await directlyAssignedLinkedUsers();
    const since = Date.now();
    directory().updateUser(edited!, { jobTitle: "Continuous Tester" });
    await waitFor(async () => (await dialpadUser(edited!))?.attributes.title === "Continuous Tester", {
      what: "the new title in Dialpad",
    });
    await expectCycleForChange(edited!, "Update");
    const editedTarget = (await linkOf(edited!))!.targetId;
    expect(requestsFor(editedTarget, since).filter((r) => r.method === "PATCH")).toHaveLength(1);

    directory().updateUser(disabled!, { accountEnabled: false });
    await waitFor(async () => (await dialpadUser(disabled!))?.attributes.active === false, {
      what: "the disabled account in Dialpad",
    });
    await expectCycleForChange(disabled!, "Disable");

    // A user deleted for good in Entra is deleted in Dialpad (Entra's default for a hard delete).
    const deletedTarget = (await linkOf(deleted!))!.targetId;
    directory().hardDeleteUser(deleted!);
    await waitFor(async () => !rig.sandbox.dialpad.company.users.has(deletedTarget), {
      what: "the deleted user gone from Dialpad",
    });
    await expectCycleForChange(deleted!, "Delete");
  }, 60_000);

  test("an unassignment, a new assignment and a membership of an assigned group each reach Dialpad", async () => {
    const [unassigned] = await directlyAssignedLinkedUsers();
    directory().unassign(unassigned!);
    await waitFor(async () => (await dialpadUser(unassigned!))?.attributes.active === false, {
      what: "the unassigned user disabled in Dialpad",
    });
    await expectCycleForChange(unassigned!, "Disable");

    const [assigned, member] = await unassignedUsers();
    directory().assign(assigned!, DIALPAD_USER_ROLE_ID);
    directory().addMember(SEED_GROUPS.dialpadUsers.id, member!);
    await waitFor(async () => (await dialpadUser(assigned!)) && (await dialpadUser(member!)), {
      what: "the newly assigned users created in Dialpad",
    });
    await expectCycleForChange(assigned!, "Create");
    await expectCycleForChange(member!, "Create");
  }, 60_000);

  test("a soft delete, leaving the scoping filter, a removed membership, and a group assigned then unassigned each reach Dialpad", async () => {
    const gone = async (id: string) => {
      const account = await dialpadUser(id);
      return !account || account.attributes.active === false;
    };
    const [softDeleted, leavesScope] = await directlyAssignedLinkedUsers();
    directory().softDeleteUser(softDeleted!);
    directory().updateUser(leavesScope!, { department: "Contractors" });
    const links = await db().objectLink.findMany({
      where: { connectionId: rig.connectionId, objectType: "User", active: true },
    });
    const viaGroupOnly = links
      .map((link) => link.sourceId)
      .find(
        (id) =>
          directory().assignmentsOf(id).length === 0 &&
          directory()
            .memberOf(id)
            .filter((group) => directory().assignmentsOf(group).length > 0)
            .join() === SEED_GROUPS.dialpadUsers.id,
      );
    expect(viaGroupOnly).toBeDefined();
    directory().removeMember(SEED_GROUPS.dialpadUsers.id, viaGroupOnly!);
    for (const id of [softDeleted!, leavesScope!, viaGroupOnly!])
      await waitFor(() => gone(id), { what: `${id} disabled or deleted in Dialpad` });
    await expectCycleForChange(softDeleted!, ["Disable", "Delete"]);
    await expectCycleForChange(leavesScope!, ["Disable", "Delete"]);
    await expectCycleForChange(viaGroupOnly!, ["Disable", "Delete"]);

    const members = (await unassignedUsers()).slice(0, 2);
    const group = directory().addGroup({
      displayName: "Continuous newcomers",
      securityEnabled: true,
      mailEnabled: false,
    });
    for (const id of members) directory().addMember(group.id, id);
    directory().assign(group.id, DIALPAD_USER_ROLE_ID);
    for (const id of members)
      await waitFor(() => dialpadUser(id), { what: `${id} created through the group` });
    directory().unassign(group.id);
    for (const id of members)
      await waitFor(() => gone(id), { what: `${id} disabled with the group unassigned` });
  }, 90_000);

  test("an idle poll costs a few Graph requests, no Dialpad request and no cycle", async () => {
    await sleep(2_000);
    const before = await db().connection.findUniqueOrThrow({ where: { id: rig.connectionId } });
    const cyclesBefore = await db().cycle.count({ where: { connectionId: rig.connectionId } });
    const dialpadBefore = rig.sandbox.dialpad.requests.length;
    await sleep(4_000);
    const after = await db().connection.findUniqueOrThrow({ where: { id: rig.connectionId } });
    const polls = after.pollCount - before.pollCount;
    expect(polls).toBeGreaterThanOrEqual(3);
    // users/delta, groups/delta, the members feed, the assignments feed: one request each.
    expect((after.pollGraphRequests - before.pollGraphRequests) / polls).toBeLessThanOrEqual(4);
    expect(
      rig.sandbox.dialpad.requests.slice(dialpadBefore).map((r) => `${r.at} ${r.method} ${r.path}`),
    ).toEqual([]);
    expect(await db().cycle.count({ where: { connectionId: rig.connectionId } })).toBe(cyclesBefore);
  }, 30_000);

  test("Graph throttling slows polling without failing it, and the change still arrives", async () => {
    rig.sandbox.graph.configure({ burst429: 8 });
    await waitFor(
      () =>
        db().connection.findFirst({ where: { id: rig.connectionId, lastPollError: { contains: "429" } } }),
      { what: "a throttled poll", timeoutMs: 30_000 },
    );
    const [edited] = await directlyAssignedLinkedUsers();
    directory().updateUser(edited!, { jobTitle: "After the throttling" });
    await waitFor(async () => (await dialpadUser(edited!))?.attributes.title === "After the throttling", {
      what: "the change made while Graph throttled",
      timeoutMs: 60_000,
    });
    const failed = await db().cycle.count({ where: { connectionId: rig.connectionId, status: "failed" } });
    expect(failed).toBe(0);
    await waitFor(() => db().connection.findFirst({ where: { id: rig.connectionId, lastPollError: null } }), {
      what: "a poll that got through again",
    });
  }, 120_000);

  test("a worker SIGKILLed mid-poll loses no change and duplicates none", async () => {
    // Whichever worker holds the poll is killed while it polls.
    const polling = await waitFor(
      () =>
        db().job.findFirst({
          where: { kind: "provisioning-poll", status: "running", lockedBy: { not: null } },
        }),
      { what: "a poll running", timeoutMs: 30_000, intervalMs: 5 },
    );
    const victim = await rig.workerById(polling.lockedBy!);
    expect(victim).toBeDefined();
    victim!.child.kill("SIGKILL");
    const [edited] = await directlyAssignedLinkedUsers();
    const since = Date.now();
    directory().updateUser(edited!, { jobTitle: "Survived a SIGKILL" });
    await waitFor(async () => (await dialpadUser(edited!))?.attributes.title === "Survived a SIGKILL", {
      what: "the change after the kill",
      timeoutMs: 60_000,
    });
    await sleep(1_500);
    const target = (await linkOf(edited!))!.targetId;
    expect(requestsFor(target, since).filter((r) => r.method === "PATCH")).toHaveLength(1);
  }, 90_000);

  test("a change made on the sandbox hub's Change Entra ID form reaches the emulated Dialpad", async () => {
    const hubUrl = rig.sandbox.runtime.hubUrl;
    const page = await (await fetch(hubUrl)).text();
    const token = /action="\/entra\/change"><input type="hidden" name="token" value="([^"]+)"/.exec(
      page,
    )?.[1];
    expect(token).toBeDefined();
    const [user] = await directlyAssignedLinkedUsers();
    expect(page).toContain(`<option value="${user}">`);
    // Another page's form posted to the hub changes nothing.
    const forged = await fetch(`${hubUrl}/entra/change`, {
      method: "POST",
      body: new URLSearchParams({ token: "forged", user: user!, change: "disable" }),
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    const response = await fetch(`${hubUrl}/entra/change`, {
      method: "POST",
      body: new URLSearchParams({ token: token!, user: user!, change: "disable" }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    expect(await (await fetch(hubUrl)).text()).toMatch(/can no longer sign in/);
    await waitFor(async () => (await dialpadUser(user!))?.attributes.active === false, {
      what: "the hub's change in Dialpad",
    });
  }, 30_000);

  test("the deletion threshold holds a mass unassignment, and polling does not queue it again and again", async () => {
    await db().connection.update({
      where: { id: rig.connectionId },
      data: { preventAccidentalDeletes: true, deletionThreshold: 2 },
    });
    const victims = (await directlyAssignedLinkedUsers()).slice(0, 4);
    for (const id of victims) directory().unassign(id);
    const held = await waitFor(
      () => db().connection.findFirst({ where: { id: rig.connectionId, quarantineReason: { not: null } } }),
      { what: "the deletions held", timeoutMs: 30_000 },
    );
    expect(held.quarantineReason).toBe("TooManyDeletes");
    for (const id of victims) expect((await dialpadUser(id))?.attributes.active).not.toBe(false);
    const cycles = await db().cycle.count({ where: { connectionId: rig.connectionId } });
    await sleep(3_000);
    expect(await db().cycle.count({ where: { connectionId: rig.connectionId } })).toBeLessThanOrEqual(
      cycles + 1,
    );
  }, 60_000);
});
