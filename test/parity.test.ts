import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { explainUser } from "@/lib/server/explain";
import { runOnDemand } from "@/lib/server/on-demand";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import type { OnDemandResult } from "@/lib/sync/on-demand-types";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { SEED_GROUPS, SEED_USERS } from "@/sandbox/graph/seed";
import { startEngineHarness, type EngineHarness } from "./engine-harness";

/**
 * One decision path: for every user of a directory built to hold each edge case, what Why? predicts,
 * what provisioning on demand does and what a full cycle does are the same action. Two identical
 * deployments (same seed, same changes) are used, because on-demand and the cycle both write: one runs
 * Why? and then the cycle, the other provisions every user on demand.
 */
type Act = "Create" | "Update" | "Disable" | "Delete" | "None" | "Fail";
const PARITY_GROUP_ID = "20000000-0000-4000-8000-0000000000ff";

const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
let first: EngineHarness;
let second: EngineHarness;

const runCycle = (h: EngineHarness) =>
  runProvisioningCycle(
    h.t.db,
    box,
    { connectionId: h.connectionId, jobId: null, trigger: "start", dryRun: false },
    { mailer: null, requestsPerSecond: 1_000 },
  );

/** The same history in both deployments: an initial cycle, then changes on both sides. */
async function prepare(h: EngineHarness): Promise<void> {
  const initial = await runCycle(h);
  expect(initial.status).toMatch(/^succeeded/);
  const directory = h.sandbox.graph.directory;
  const dialpad = h.sandbox.dialpad.company;
  // Entra: an attribute edit, a disable, an unassignment, a soft delete that Graph still reads as disabled.
  directory.updateUser(SEED_USERS.zoe.id, { jobTitle: "Parity Title" });
  directory.updateUser(SEED_USERS.apostrophe.id, { accountEnabled: false });
  directory.unassign(SEED_USERS.admin.id);
  // A new assigned user, and one already in Dialpad (unlinked) with drifted attributes.
  const fresh = directory.addUser({
    displayName: "Parity New",
    userPrincipalName: "parity.new@contoso.example",
  });
  directory.assign(fresh.id, DIALPAD_USER_ROLE_ID);
  const existing = directory.addUser({
    displayName: "Parity Existing",
    userPrincipalName: "parity.existing@contoso.example",
    jobTitle: "In Entra",
  });
  directory.assign(existing.id, DIALPAD_USER_ROLE_ID);
  dialpad.createUser({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "parity.existing@contoso.example",
    title: "Drifted in Dialpad",
    active: true,
  });
  // Dialpad: a linked user's attribute drifted, and a linked user is gone (the link store still has it).
  const drifted = dialpad.findUserByUserName(SEED_USERS.jose.upn)!;
  dialpad.patchUser(drifted.id, {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: [{ op: "replace", path: "title", value: "Drifted" }],
  });
  dialpad.deleteUser(dialpad.findUserByUserName(SEED_USERS.duplicateA.upn)!.id);
  // Groups: one leaves scope, one is new, one is renamed (Dialpad refuses renames).
  directory.unassign(SEED_GROUPS.dialpadAdmins.id);
  directory.addGroup({ id: PARITY_GROUP_ID, displayName: "Parity Group" });
  directory.assign(PARITY_GROUP_ID, DIALPAD_USER_ROLE_ID);
  directory.renameGroup(SEED_GROUPS.dialpadSupport.id, "Dialpad Support Renamed");
  // Next cycle reads everything again (a full cycle compares with what Dialpad holds, as Why? does).
  await h.t.db.connection.update({
    where: { id: h.connectionId },
    data: { usersDeltaLink: null, groupsDeltaLink: null },
  });
}

/** On demand for a group alone (no members), in the second deployment. */
async function runOnDemandGroup(objectId: string) {
  const response: OnDemandResult = await runOnDemand(second.t.db, box, {
    connectionId: second.connectionId,
    subject: { objectId, objectTypeName: "Group", links: { members: [] } },
    initiatedBy: "parity@contoso.example",
    jobId: null,
  });
  return { group: response };
}

function predicted(result: OnDemandResult): Act {
  const { status, errorCode } = result.statusInfo;
  if (status === "Failure") return "Fail";
  if (status === "Skipped") return errorCode === "ExplainOnly" ? (result.action as Act) : "None";
  return result.action as Act;
}

function done(result: OnDemandResult): Act {
  const { status } = result.statusInfo;
  if (status === "Failure") return "Fail";
  if (status === "Skipped") return "None";
  return result.action as Act;
}

beforeAll(async () => {
  first = await startEngineHarness({ name: "parity-a", secretKey });
  second = await startEngineHarness({ name: "parity-b", secretKey });
  await prepare(first);
  await prepare(second);
}, 120_000);

afterAll(async () => {
  for (const h of [first, second]) {
    await h?.sandbox.close();
    await h?.t.drop();
  }
});

describe("Why?, provision on demand and a cycle decide alike", () => {
  test("for every user and group of the directory", async () => {
    // Generated users get new ids in each deployment; the user principal name is the same.
    const users = first.sandbox.graph.directory.listUsers().map((user) => user.id);
    const idInSecond = (id: string) =>
      second.sandbox.graph.directory.getUser(first.sandbox.graph.directory.getUser(id)!.userPrincipalName)!
        .id;
    expect(second.sandbox.graph.directory.listUsers()).toHaveLength(users.length);

    const why = new Map<string, Act>();
    for (const objectId of users) {
      const explanation = await explainUser(first.t.db, box, { connectionId: first.connectionId, objectId });
      why.set(objectId, predicted(explanation.decision));
    }

    const cycle = await runCycle(first);
    const entries = await first.t.db.provisioningLog.findMany({
      where: { cycleId: cycle.cycleId!, objectType: "User" },
      orderBy: { seq: "asc" },
    });
    const byCycle = new Map<string, Act>(users.map((id) => [id, "None"]));
    for (const entry of entries) {
      if (!entry.sourceId || entry.status === "Skipped") continue;
      byCycle.set(entry.sourceId, entry.status === "Failure" ? "Fail" : (entry.action as Act));
    }

    const onDemand = new Map<string, Act>();
    for (const objectId of users) {
      const result = await runOnDemand(second.t.db, box, {
        connectionId: second.connectionId,
        subject: { objectId: idInSecond(objectId), objectTypeName: "User" },
        initiatedBy: "parity@contoso.example",
        jobId: null,
      });
      onDemand.set(objectId, done(result));
    }

    const disagreements = users
      .map((id) => ({
        user: first.sandbox.graph.directory.getUser(id)!.userPrincipalName,
        why: why.get(id),
        cycle: byCycle.get(id),
        onDemand: onDemand.get(id),
      }))
      .filter((row) => row.why !== row.cycle || row.why !== row.onDemand);
    expect(disagreements).toEqual([]);

    // Groups: a cycle and provisioning on demand (the group alone) take the same action.
    const groups = first.sandbox.graph.directory.listGroups().map((group) => group.id);
    const groupsByCycle = new Map<string, Act>(groups.map((id) => [id, "None"]));
    const groupEntries = await first.t.db.provisioningLog.findMany({
      where: { cycleId: cycle.cycleId!, objectType: "Group" },
      orderBy: { seq: "asc" },
    });
    for (const entry of groupEntries) {
      if (!entry.sourceId || entry.status === "Skipped") continue;
      groupsByCycle.set(entry.sourceId, entry.status === "Failure" ? "Fail" : (entry.action as Act));
    }
    const groupDisagreements: { group: string; cycle?: Act; onDemand: Act }[] = [];
    for (const objectId of groups) {
      const { group } = await runOnDemandGroup(objectId);
      const onDemandAct = done(group);
      if (onDemandAct !== groupsByCycle.get(objectId))
        groupDisagreements.push({
          group: objectId,
          cycle: groupsByCycle.get(objectId),
          onDemand: onDemandAct,
        });
    }
    expect(groupDisagreements).toEqual([]);
    expect(groupsByCycle.get(PARITY_GROUP_ID)).toBe("Create");
    expect(groupsByCycle.get(SEED_GROUPS.dialpadAdmins.id)).toBe("Delete");

    // The directory really held each kind of change, so the agreement above is not about nothing.
    const acts = new Set(why.values());
    for (const act of ["Create", "Update", "Disable", "None"] as const) expect(acts).toContain(act);
    expect(why.get(SEED_USERS.duplicateA.id)).toBe("Create");
    expect(why.get(SEED_USERS.jose.id)).toBe("Update");
    expect(why.get(SEED_USERS.apostrophe.id)).toBe("Disable");
    expect(why.get(SEED_USERS.admin.id)).toBe("Disable");
    expect(why.get(SEED_USERS.unassigned.id)).toBe("None");
  }, 180_000);
});
