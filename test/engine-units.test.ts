import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildPatch, defaultDialpadMapping } from "@/lib/mapping";
import type { GraphUser } from "@/lib/graph";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { JobWorker } from "@/lib/jobs/runner";
import { startProvisioning, stopProvisioning } from "@/lib/cycle/schedule";
import { toEntraUser } from "@/lib/sync/source";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_GROUPS, describeSeed } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startCycleAndWaitForEnd, startEngineHarness } from "./engine-harness";
import { SecretBox } from "@/lib/crypto/secrets";
import { getConnection } from "@/lib/server/connections";
import { cycleScimClient } from "@/lib/server/cycle-peers";
import { prismaCycleStore } from "@/lib/server/cycle-store";
import { recoverEarlierAttempt } from "@/lib/server/cycle-unit";
import type { PlannedOperation } from "@/lib/sync/plan";
import { CORE_GROUP } from "@/sandbox/dialpad/urns";

/**
 * A cycle fanned out into cycle units (pages of 20 user operations) that three in-process workers run in
 * parallel, against the Graph and Dialpad emulators and a real PostgreSQL: it converges as the
 * single-job cycle does, its finalizer runs once, and the deletion threshold still holds.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let workers: JobWorker[] = [];
const secretKey = crypto.randomBytes(32);
const PAGE_SIZE = 20;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({
    name: "engine-units",
    secretKey,
    connection: { deletionThreshold: 3 },
  }));
  const silent = { info() {}, warn() {}, error() {} };
  workers = ["worker-a", "worker-b", "worker-c"].map(
    (workerId) =>
      new JobWorker({
        db: t.db,
        databaseUrl: t.url,
        log: silent,
        workerId,
        concurrency: 2,
        pollIntervalMs: 50,
        handlers: createJobHandlers({
          db: t.db,
          log: silent,
          cycle: { mailer: null, requestsPerSecond: 1_000, unitPageSize: PAGE_SIZE },
        }),
      }),
  );
  for (const worker of workers) await worker.start();
});

afterAll(async () => {
  for (const worker of workers) await worker.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

const writesFrom = (start: number) =>
  sandbox.dialpad.requests.slice(start).filter((request) => request.method !== "GET");
const dialpadUser = (upn: string) => sandbox.dialpad.company.findUserByUserName(upn);
const dialpadGroup = (displayName: string) =>
  [...sandbox.dialpad.company.groups.values()].find((group) => group.displayName === displayName);

/** Starts a cycle through the workers and waits until its finalizer ended it. */
async function cycleThroughWorkers() {
  const { planner, cycle } = await startCycleAndWaitForEnd(t.db, connectionId);
  const cycleId = cycle.id;
  const units = await t.db.job.findMany({ where: { cycleId, kind: "cycle-unit" } });
  const finalizers = await t.db.job.findMany({ where: { cycleId, kind: "cycle-finalize" } });
  const queuedNext = await t.db.job.findMany({
    where: { connectionId, kind: "provisioning-cycle", status: "queued" },
  });
  return { planner, cycle, units, finalizers, queuedNext };
}

describe("a cycle fanned out into units", () => {
  test("the initial cycle converges through units on several workers, finalized once", async () => {
    const start = sandbox.dialpad.requests.length;
    const { cycle, units, finalizers, queuedNext } = await cycleThroughWorkers();
    const directory = sandbox.graph.directory;
    const seed = describeSeed(directory);
    const assigned = [SEED_GROUPS.dialpadUsers, SEED_GROUPS.dialpadAdmins, SEED_GROUPS.dialpadSupport];

    expect(cycle.status).toBe("succeeded");
    expect(units.length).toBe(cycle.totalUnits);
    expect(units.length).toBeGreaterThan(1);
    expect(cycle.completedUnits).toBe(cycle.totalUnits);
    expect(units.every((unit) => unit.status === "succeeded")).toBe(true);
    // Unit payloads stay far below PostgreSQL's comfortable JSON size even at the default 100 per page.
    const largest = Math.max(...units.map((unit) => JSON.stringify(unit.payload).length));
    expect((largest / PAGE_SIZE) * 100).toBeLessThan(1_000_000);
    const ranOn = new Set(units.map((unit) => (unit.result as { workerId: string }).workerId));
    expect(ranOn.size).toBeGreaterThan(1);
    expect(finalizers).toHaveLength(1);
    expect(finalizers[0]!.status).toBe("succeeded");
    expect(queuedNext).toHaveLength(1);

    // Every in-scope user created exactly once, holding the mapping's output.
    const posts = writesFrom(start).filter(
      (request) => request.method === "POST" && request.path.endsWith("/Users"),
    );
    expect(posts).toHaveLength(seed.inScopeUserIds.length);
    expect(sandbox.dialpad.company.users.size).toBe(seed.inScopeUserIds.length);
    const mapping = defaultDialpadMapping().users;
    for (const id of seed.inScopeUserIds) {
      const user = directory.getUser(id)!;
      const found = dialpadUser(user.userPrincipalName);
      expect(found, user.userPrincipalName).toBeDefined();
      const source = toEntraUser(user as unknown as GraphUser, {
        isSoftDeleted: user.accountEnabled === false,
      });
      expect(buildPatch(mapping, source, sandbox.dialpad.company.toScimUser(found!)).operations).toEqual([]);
    }
    for (const id of seed.outOfScopeUserIds)
      expect(dialpadUser(directory.getUser(id)!.userPrincipalName), id).toBeUndefined();
    // Groups and their members are the finalizer's, once every user exists.
    for (const group of assigned) {
      const expected = directory
        .listMembers(group.id)
        .filter((member) => member.type === "user" && seed.inScopeUserIds.includes(member.id))
        .map((member) => dialpadUser(directory.getUser(member.id)!.userPrincipalName)!.id)
        .sort();
      expect([...dialpadGroup(group.displayName)!.members].sort(), group.displayName).toEqual(expected);
    }
    expect(cycle.counts).toMatchObject({
      created: seed.inScopeUserIds.length + assigned.length,
      failed: 0,
      countEntitled: seed.inScopeUserIds.length + assigned.length,
    });
    const logs = await t.db.provisioningLog.findMany({ where: { cycleId: cycle.id } });
    expect(logs.filter((log) => log.action === "Create" && log.status === "Success")).toHaveLength(
      seed.inScopeUserIds.length + assigned.length,
    );
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection.usersDeltaLink).toBeTruthy();
    expect(connection.quarantineReason).toBeNull();
  });

  test("a second cycle sends no write", async () => {
    const start = sandbox.dialpad.requests.length;
    const { cycle, finalizers, queuedNext } = await cycleThroughWorkers();
    expect(cycle.status).toBe("succeeded");
    expect(finalizers).toHaveLength(1);
    expect(queuedNext).toHaveLength(1);
    expect(writesFrom(start)).toEqual([]);
  });

  test("a member moved between groups in Entra moves in Dialpad when the cycle fans out", async () => {
    const directory = sandbox.graph.directory;
    const seed = describeSeed(directory);
    const [from, to] = [SEED_GROUPS.dialpadUsers, SEED_GROUPS.dialpadAdmins];
    const mover = directory
      .listMembers(from.id)
      .find((member) => member.type === "user" && seed.inScopeUserIds.includes(member.id))!;
    const moved = dialpadUser(directory.getUser(mover.id)!.userPrincipalName)!;
    expect(dialpadGroup(from.displayName)!.members.has(moved.id)).toBe(true);
    expect(dialpadGroup(to.displayName)!.members.has(moved.id)).toBe(false);
    directory.addMember(to.id, mover.id);
    directory.removeMember(from.id, mover.id);
    // Enough other changes that the cycle goes to units and the finalizer runs the groups.
    for (const id of seed.inScopeUserIds.filter((id) => id !== mover.id).slice(0, PAGE_SIZE * 2 + 1))
      directory.updateUser(id, { jobTitle: `Member test ${directory.getUser(id)!.jobTitle ?? ""}` });

    const { cycle, units, finalizers } = await cycleThroughWorkers();
    expect(cycle.status).toBe("succeeded");
    expect(units.length).toBeGreaterThan(1);
    expect(finalizers).toHaveLength(1);
    expect(dialpadGroup(from.displayName)!.members.has(moved.id)).toBe(false);
    expect(dialpadGroup(to.displayName)!.members.has(moved.id)).toBe(true);
    expect(sandbox.dialpad.company.isActive(moved)).toBe(true);
    expect(cycle.counts).toMatchObject({ membersRemoved: 1, membersAdded: 1, failed: 0 });
    const entries = await t.db.provisioningLog.findMany({
      where: { cycleId: cycle.id, sourceId: { in: [from.id, to.id] } },
    });
    const changes = entries.map((entry) => JSON.stringify(entry.modifiedProperties));
    expect(changes.some((change) => change.includes("members (removed)"))).toBe(true);
    expect(changes.some((change) => change.includes("members (added)"))).toBe(true);
  });

  test("a finalizer run again adopts the group its earlier attempt created, instead of POSTing it into a 409", async () => {
    const cycle = await t.db.cycle.findFirstOrThrow({
      where: { connectionId },
      orderBy: { startedAt: "desc" },
    });
    const connection = await getConnection(t.db, connectionId);
    const store = prismaCycleStore(t.db, { connectionId, cycleId: cycle.id, jobId: null });
    const scim = await cycleScimClient(t.db, connection, new SecretBox(secretKey), {
      requestsPerSecond: 1_000,
    });
    // The earlier attempt's POST reached Dialpad; its link and its log entry did not get written.
    const made = sandbox.dialpad.company.createGroup({
      schemas: [CORE_GROUP],
      displayName: "Made before the crash",
    });
    const create: PlannedOperation = {
      kind: "create",
      action: "Create",
      objectType: "Group",
      sourceId: "30000000-0000-4000-8000-00000000c0de",
      displayName: "Made before the crash",
      targetId: null,
      reason: "The group is in scope and not in Dialpad",
      resource: { schemas: [CORE_GROUP], displayName: "Made before the crash" },
      modifiedProperties: [],
      log: true,
      steps: [],
    };
    const start = sandbox.dialpad.requests.length;

    const earlier = await recoverEarlierAttempt(t.db, store, scim, connectionId, cycle.id, [create]);
    expect(earlier.remaining).toEqual([]);
    expect(earlier.counts).toMatchObject({ created: 1, failed: 0 });
    expect(writesFrom(start)).toEqual([]);
    const link = await t.db.objectLink.findUniqueOrThrow({
      where: {
        connectionId_objectType_sourceId: { connectionId, objectType: "Group", sourceId: create.sourceId },
      },
    });
    expect(link.targetId).toBe(made.id);
    const entries = await t.db.provisioningLog.findMany({
      where: { cycleId: cycle.id, sourceId: create.sourceId },
    });
    expect(entries.map((entry) => [entry.action, entry.status])).toEqual([["Create", "Success"]]);

    // Once logged, a later attempt counts it and sends nothing either.
    const again = await recoverEarlierAttempt(t.db, store, scim, connectionId, cycle.id, [create]);
    expect(again.remaining).toEqual([]);
    expect(again.counts).toMatchObject({ created: 1 });
    expect(writesFrom(start)).toEqual([]);
  });

  test("Stop ends the fanned-out cycle after the running units; the next cycle finishes the rest", async () => {
    const directory = sandbox.graph.directory;
    const retitle = describeSeed(directory).inScopeUserIds.slice(0, PAGE_SIZE * 6 + 5);
    for (const id of retitle) directory.updateUser(id, { jobTitle: `Stopped ${id.slice(0, 6)}` });
    const before = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const start = sandbox.dialpad.requests.length;
    sandbox.dialpad.configure({ latencyMs: 30 });
    try {
      const started = await startProvisioning(t.db, connectionId);
      if (!("job" in started)) throw new Error(`no cycle job: ${started.outcome}`);
      let running = null;
      for (let i = 0; i < 1_000 && !running; i += 1) {
        running = await t.db.job.findFirst({
          where: { connectionId, kind: "cycle-unit", status: "running" },
        });
        if (!running) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(running).not.toBeNull();
      await stopProvisioning(t.db, connectionId);
      let cycle = await t.db.cycle.findUniqueOrThrow({ where: { id: running!.cycleId! } });
      for (let i = 0; i < 600 && cycle.status === "running"; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        cycle = await t.db.cycle.findUniqueOrThrow({ where: { id: cycle.id } });
      }
      expect(cycle.status).toBe("stopped");
      expect(cycle.completedUnits + cycle.failedUnits + cycle.cancelledUnits).toBe(cycle.totalUnits);
      expect(await t.db.job.count({ where: { cycleId: cycle.id, kind: "cycle-finalize" } })).toBe(1);
      // Nothing new started after Stop, and the watermark stays so the next cycle sees the same changes.
      expect(writesFrom(start).length).toBeLessThan(retitle.length);
      const after = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
      expect(after.usersDeltaLink).toBe(before.usersDeltaLink);
      expect(
        await t.db.job.count({ where: { connectionId, kind: "provisioning-cycle", status: "queued" } }),
      ).toBe(0);
    } finally {
      sandbox.dialpad.configure({ latencyMs: 0 });
    }
    const resumed = await cycleThroughWorkers();
    expect(resumed.cycle.status).toBe("succeeded");
    // Every changed user was patched once over the two cycles.
    const patched = writesFrom(start).filter((request) => request.method === "PATCH");
    expect(patched).toHaveLength(retitle.length);
    for (const id of retitle)
      expect(
        sandbox.dialpad.company.toScimUser(dialpadUser(directory.getUser(id)!.userPrincipalName)!),
      ).toMatchObject({ title: `Stopped ${id.slice(0, 6)}` });
  });

  test("disables above the threshold are held while the other changes fan out", async () => {
    const directory = sandbox.graph.directory;
    const seed = describeSeed(directory);
    const assignedGroups = new Set(
      directory
        .listAssignments()
        .filter((assignment) => assignment.principalType === "Group")
        .map((assignment) => assignment.principalId),
    );
    const direct = seed.inScopeUserIds
      .filter((id) => directory.memberOf(id).every((group) => !assignedGroups.has(group)))
      .filter((id) => directory.getUser(id)!.accountEnabled !== false);
    const unassign = direct.slice(0, 5);
    const retitle = seed.inScopeUserIds.filter((id) => !unassign.includes(id)).slice(0, PAGE_SIZE + 5);
    for (const id of retitle) directory.updateUser(id, { jobTitle: `Units ${id.slice(0, 6)}` });
    for (const id of unassign) directory.unassign(id);
    const start = sandbox.dialpad.requests.length;
    const { cycle, units, finalizers } = await cycleThroughWorkers();
    expect(units.length).toBe(2);
    expect(finalizers).toHaveLength(1);
    expect(cycle.counts).toMatchObject({ updated: retitle.length, held: unassign.length, disabled: 0 });
    const writes = writesFrom(start);
    expect(writes.every((request) => request.method === "PATCH")).toBe(true);
    expect(writes).toHaveLength(retitle.length);
    for (const id of unassign) {
      const user = dialpadUser(directory.getUser(id)!.userPrincipalName)!;
      expect(sandbox.dialpad.company.toScimUser(user)).toMatchObject({ active: true });
    }
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(unassign.length);
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection.quarantineReason).toBe("TooManyDeletes");
    const staged = await t.db.provisioningLog.findMany({
      where: { cycleId: cycle.id, action: "StagedDelete" },
    });
    expect(staged.map((entry) => entry.sourceId).sort()).toEqual([...unassign].sort());
  });
});
