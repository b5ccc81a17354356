import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { defaultDialpadMapping } from "@/lib/mapping";
import { saveMappings } from "@/lib/server/mappings";
import { runOnDemand, type OnDemandSubject } from "@/lib/server/on-demand";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_GROUPS, SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * On-demand provisioning of a group with up to five of its members, as Entra does it: the group and the
 * chosen members go through the same pipeline as a cycle, over real HTTPS to the emulators, with the
 * provisioning log and the membership store in a real PostgreSQL.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const admin = TEST_ADMIN;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "on-demand-group", secretKey }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const provisionGroup = (groupId: string, memberIds: string[]) => {
  const subject: OnDemandSubject = {
    objectId: groupId,
    objectTypeName: "Group",
    links: { members: memberIds.map((objectId) => ({ objectId, objectTypeName: "User" as const })) },
  };
  return runOnDemand(t.db, box, { connectionId, subject, initiatedBy: "admin@contoso.example", jobId: null });
};
const dialpadUser = (upn: string) => sandbox.dialpad.company.findUserByUserName(upn);
const dialpadGroup = (displayName: string) =>
  sandbox.dialpad.company.listGroups({ filter: `displayName eq "${displayName}"` }).resources[0];
const writesSince = (index: number) =>
  sandbox.dialpad.requests.slice(index).filter((request) => request.method !== "GET");

describe("provision a group on demand", () => {
  test("creates the group and the chosen members, adds them to it, and logs each object", async () => {
    const result = await provisionGroup(SEED_GROUPS.dialpadUsers.id, [
      SEED_USERS.jose.id,
      SEED_USERS.directAndGroup.id,
    ]);
    expect(result).toMatchObject({ action: "Create", status: "Success" });
    expect(result.members?.map((member) => [member.sourceIdentity.id, member.action, member.status])).toEqual(
      [
        [SEED_USERS.jose.id, "Create", "Success"],
        [SEED_USERS.directAndGroup.id, "Create", "Success"],
      ],
    );

    const group = dialpadGroup(SEED_GROUPS.dialpadUsers.displayName);
    expect(group).toBeDefined();
    const jose = dialpadUser(SEED_USERS.jose.upn)!;
    const gabe = dialpadUser(SEED_USERS.directAndGroup.upn)!;
    expect([...group!.members].sort()).toEqual([jose.id, gabe.id].sort());

    const references = result.provisioningSteps.find((step) => step.type === "ReferenceResolution");
    expect(references).toMatchObject({ status: "success", description: expect.stringMatching(/Added 2/) });
    // The admin reads who was added by name and UPN, not by Dialpad id.
    const added = result.modifiedProperties.find((property) => property.displayName === "members (added)");
    const gabeName = sandbox.graph.directory.getUser(SEED_USERS.directAndGroup.id)?.displayName;
    expect(String(added?.newValue).split(", ").sort()).toEqual(
      [`José Müller (${SEED_USERS.jose.upn})`, `${gabeName} (${SEED_USERS.directAndGroup.upn})`].sort(),
    );
    expect(String(added?.newValue)).not.toContain(jose.id);

    const logs = await t.db.provisioningLog.findMany({ where: { connectionId } });
    expect(logs.map((log) => [log.objectType, log.sourceId, log.action]).sort()).toEqual(
      [
        ["Group", SEED_GROUPS.dialpadUsers.id, "Create"],
        ["User", SEED_USERS.directAndGroup.id, "Create"],
        ["User", SEED_USERS.jose.id, "Create"],
      ].sort(),
    );
    expect(new Set(logs.map((log) => log.changeId)).size).toBe(3);
    const groupLog = logs.find((log) => log.objectType === "Group");
    expect(JSON.stringify(groupLog?.modifiedProperties)).toContain(`José Müller (${SEED_USERS.jose.upn})`);
    // The next cycle must not add the same members again: the membership store knows them.
    const memberships = await t.db.objectLink.count({
      where: {
        connectionId,
        objectType: "GroupMember",
        sourceId: { startsWith: SEED_GROUPS.dialpadUsers.id },
      },
    });
    expect(memberships).toBe(2);
  });

  test("a second run with no change sends no write", async () => {
    const before = sandbox.dialpad.requests.length;
    const result = await provisionGroup(SEED_GROUPS.dialpadUsers.id, [SEED_USERS.jose.id]);
    expect(result).toMatchObject({
      action: "Other",
      status: "Skipped",
      statusInfo: { errorCode: "RedundantExport" },
    });
    expect(result.members?.[0]).toMatchObject({ status: "Skipped" });
    const references = result.provisioningSteps.find((step) => step.type === "ReferenceResolution");
    expect(references?.details).toMatchObject({ [SEED_USERS.jose.upn]: "already a member" });
    expect(writesSince(before)).toEqual([]);
  });

  test("a rename in Entra is not sent to Dialpad, and the result says why", async () => {
    sandbox.graph.directory.renameGroup(SEED_GROUPS.dialpadUsers.id, "Dialpad Licensed");
    const before = sandbox.dialpad.requests.length;
    const result = await provisionGroup(SEED_GROUPS.dialpadUsers.id, []);
    expect(result).toMatchObject({
      status: "Skipped",
      statusInfo: { errorCode: "GroupRenameNotSupported", reason: expect.stringMatching(/Dialpad Users/) },
    });
    expect(writesSince(before)).toEqual([]);
    expect(dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)).toBeDefined();
    sandbox.graph.directory.renameGroup(SEED_GROUPS.dialpadUsers.id, SEED_GROUPS.dialpadUsers.displayName);
  });

  test("a member disabled in Entra is disabled in Dialpad and stays in the group, as in a cycle", async () => {
    sandbox.graph.directory.updateUser(SEED_USERS.jose.id, { accountEnabled: false });
    const result = await provisionGroup(SEED_GROUPS.dialpadUsers.id, [SEED_USERS.jose.id]);
    expect(result.members?.[0]).toMatchObject({ action: "Disable", status: "Success" });
    const jose = dialpadUser(SEED_USERS.jose.upn)!;
    expect(sandbox.dialpad.company.isActive(jose)).toBe(false);
    expect(dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)!.members.has(jose.id)).toBe(true);
    sandbox.graph.directory.updateUser(SEED_USERS.jose.id, { accountEnabled: true });
    expect(
      (await provisionGroup(SEED_GROUPS.dialpadUsers.id, [SEED_USERS.jose.id])).members?.[0],
    ).toMatchObject({
      action: "Update",
      status: "Success",
    });
  });

  test("a member who left scope is disabled and removed from the Dialpad group", async () => {
    const config = defaultDialpadMapping();
    config.users.scope = {
      groups: [
        {
          name: "Not Engineering",
          clauses: [
            {
              operatorName: "NOT EQUALS",
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
    sandbox.graph.directory.updateUser(SEED_USERS.jose.id, { department: "Engineering" });
    try {
      const result = await provisionGroup(SEED_GROUPS.dialpadUsers.id, [SEED_USERS.jose.id]);
      expect(result.members?.[0]).toMatchObject({ action: "Disable", status: "Success" });
      expect(result).toMatchObject({ action: "Update", status: "Success" });
      const jose = dialpadUser(SEED_USERS.jose.upn)!;
      expect(dialpadGroup(SEED_GROUPS.dialpadUsers.displayName)!.members.has(jose.id)).toBe(false);
      expect(result.modifiedProperties).toContainEqual(
        expect.objectContaining({
          displayName: "members (removed)",
          oldValue: `José Müller (${SEED_USERS.jose.upn})`,
        }),
      );
    } finally {
      await saveMappings(t.db, admin, connectionId, defaultDialpadMapping());
    }
  });

  test("a group that is not assigned is not created; its members are still provisioned on their own", async () => {
    const result = await provisionGroup(SEED_GROUPS.sales.id, [SEED_USERS.zoe.id]);
    expect(result).toMatchObject({ action: "Other", status: "Skipped" });
    const scoping = result.provisioningSteps.find((step) => step.type === "Scoping");
    expect(scoping?.description).toBe("The group is not assigned to the Dialpad application");
    expect(dialpadGroup(SEED_GROUPS.sales.displayName)).toBeUndefined();
    // Zoë is assigned directly, so she is created, but there is no Dialpad group to add her to.
    expect(result.members?.[0]).toMatchObject({ action: "Create", status: "Success" });
    expect(result.provisioningSteps.at(-1)).toMatchObject({ type: "ReferenceResolution", status: "skipped" });
  });

  test("a picked user who is only a nested member is not provisioned (Entra does not follow nesting)", async () => {
    const result = await provisionGroup(SEED_GROUPS.dialpadSupport.id, [SEED_USERS.nestedOnly.id]);
    expect(result).toMatchObject({ action: "Create", status: "Success" });
    expect(result.members?.[0]).toMatchObject({
      status: "Skipped",
      logId: null,
      statusInfo: { errorCode: "NotADirectMember" },
    });
    expect(dialpadUser(SEED_USERS.nestedOnly.upn)).toBeUndefined();
    expect(result.provisioningSteps[0]).toMatchObject({ type: "Import", status: "warning" });
  });

  test("an unknown group id fails at the import step with what to do", async () => {
    const result = await provisionGroup("20000000-0000-4000-8000-0000000000ff", []);
    expect(result).toMatchObject({
      status: "Failure",
      statusInfo: { errorCode: "EntryImportFailed", recommendedAction: expect.stringMatching(/object id/) },
    });
    expect(result.logId).not.toBeNull();
  });
});
