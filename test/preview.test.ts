import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import {
  applyPreview,
  discardPreview,
  readPreview,
  requestPreview,
  runPreviewJob,
} from "@/lib/server/preview";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import type { PreviewOperation } from "@/lib/sync/preview";
import { type RunningSandbox } from "@/sandbox/main";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * "Preview next cycle" and applying it, over real HTTPS to the emulators and a real PostgreSQL: the
 * preview writes nothing to Dialpad, and applying it sends exactly the previewed operations — proven
 * against the Dialpad emulator's request log — while anything that changed since is left for the next
 * cycle.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const admin = TEST_ADMIN;
const options = { mailer: null, requestsPerSecond: 1_000 };

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({
    name: "preview",
    secretKey,
    // A preview is for before provisioning is turned on, too.
    connection: { provisioningEnabled: false, secretTokenExpiresAt: new Date(Date.now() + 5 * 86_400_000) },
  }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const writes = (since: number) =>
  sandbox.dialpad.requests.slice(since).filter((request) => request.method !== "GET");

async function computePreview() {
  const requested = await requestPreview(t.db, connectionId, admin);
  await runPreviewJob(t.db, box, { connectionId, previewId: requested.id, mode: "compute" }, options);
  return readPreview(t.db, connectionId, requested.id, { offset: 0, limit: 500 });
}

async function allOperations(previewId: string): Promise<PreviewOperation[]> {
  const items: PreviewOperation[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await readPreview(t.db, connectionId, previewId, { offset, limit: 500 });
    items.push(...page.operations.items);
    if (items.length >= page.operations.total) return items;
  }
}

const userNameOf = (operation: PreviewOperation) =>
  String(operation.modifiedProperties.find((property) => property.displayName === "userName")?.newValue);

describe("preview, then apply", () => {
  let previewId: string;
  let previewed: PreviewOperation[];

  test("the preview computes the whole plan, with impact and pre-flight, and writes nothing", async () => {
    const before = sandbox.dialpad.requests.length;
    const preview = await computePreview();
    previewId = preview.id;
    expect(preview.status).toBe("ready");
    expect(writes(before)).toEqual([]);
    expect(await t.db.provisioningLog.count({ where: { connectionId } })).toBe(0);
    expect(await t.db.objectLink.count({ where: { connectionId } })).toBe(0);

    previewed = await allOperations(preview.id);
    const summary = preview.summary!;
    expect(summary.cycleType).toBe("initial");
    expect(summary.impact.counts.create.users).toBe(
      previewed.filter((o) => o.kind === "create" && o.objectType === "User").length,
    );
    expect(summary.impact.counts.create.users).toBeGreaterThan(100);
    expect(summary.impact.newSeats).toBe(summary.impact.counts.create.users);
    expect(summary.impact.memberships.added).toBeGreaterThan(0);
    const zoe = previewed.find((operation) => operation.sourceId === SEED_USERS.zoe.id);
    expect(zoe).toMatchObject({ kind: "create", office: "London" });
    const byCheck = Object.fromEntries(summary.preflight.map((check) => [check.id, check]));
    // Bertha's office "Berlin" matches no Dialpad office; the key expires in five days.
    expect(byCheck.offices).toMatchObject({
      status: "warn",
      items: expect.arrayContaining([expect.stringMatching(/^Berlin: /)]),
    });
    expect(byCheck["secret-token-expiry"]).toMatchObject({ status: "warn" });
    expect(byCheck.licences?.detail).toContain(`${summary.impact.newSeats} user(s)`);
  });

  test("applying sends exactly the previewed operations; what changed since waits for the next cycle", async () => {
    // After the preview: Zoë's title changes (her create body differs) and Una is newly assigned.
    sandbox.graph.directory.updateUser(SEED_USERS.zoe.id, { jobTitle: "Changed after the preview" });
    sandbox.graph.directory.assign(SEED_USERS.unassigned.id, DIALPAD_USER_ROLE_ID);
    const before = sandbox.dialpad.requests.length;

    await applyPreview(t.db, connectionId, previewId, admin);
    await runPreviewJob(t.db, box, { connectionId, previewId, mode: "apply" }, options);
    const applied = await readPreview(t.db, connectionId, previewId, { offset: 0, limit: 1 });
    expect(applied.status).toBe("applied");
    expect(applied.result?.notApplied.count).toBe(2);
    expect(applied.result?.notApplied.sample.map((entry) => entry.sourceId).sort()).toEqual(
      [SEED_USERS.zoe.id, SEED_USERS.unassigned.id].sort(),
    );

    const sent = writes(before);
    const expectedUserNames = previewed
      .filter((o) => o.kind === "create" && o.objectType === "User" && o.sourceId !== SEED_USERS.zoe.id)
      .map(userNameOf)
      .sort();
    const postedUsers = sent
      .filter((request) => request.method === "POST" && request.path.endsWith("/Users"))
      .map((request) => String((request.body as { userName: string }).userName))
      .sort();
    expect(postedUsers).toEqual(expectedUserNames);
    const postedGroups = sent
      .filter((request) => request.method === "POST" && request.path.endsWith("/Groups"))
      .map((request) => String((request.body as { displayName: string }).displayName))
      .sort();
    expect(postedGroups).toEqual(
      previewed
        .filter((o) => o.kind === "create" && o.objectType === "Group")
        .map((o) => o.displayName)
        .sort(),
    );
    // Every member added is one the preview showed (Zoë's are missing: she was not created).
    const company = sandbox.dialpad.company;
    const addedMembers = sent
      .filter((request) => request.method === "PATCH" && request.path.includes("/Groups/"))
      .flatMap((request) =>
        ((request.body as { Operations: { op: string; value: { value: string }[] }[] }).Operations ?? [])
          .filter((operation) => operation.op.toLowerCase() === "add")
          .flatMap((operation) =>
            operation.value.map((member) => String(company.getUser(member.value).attributes.userName)),
          ),
      );
    const preview = await readPreview(t.db, connectionId, previewId, { offset: 0, limit: 1 });
    const previewedMembers = new Set(
      preview.memberships.items.flatMap((membership) =>
        membership.add.map((userId) => sandbox.graph.directory.getUser(userId)!.userPrincipalName),
      ),
    );
    expect(addedMembers.length).toBeGreaterThan(0);
    for (const member of addedMembers) expect(previewedMembers).toContain(member);
    expect(company.findUserByUserName(SEED_USERS.zoe.upn)).toBeUndefined();
    expect(company.findUserByUserName(SEED_USERS.unassigned.upn)).toBeUndefined();
    // The watermark stays, so the next cycle still sees every change.
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection.usersDeltaLink).toBeNull();

    await t.db.connection.update({ where: { id: connectionId }, data: { provisioningEnabled: true } });
    const next = await runProvisioningCycle(
      t.db,
      box,
      { connectionId, jobId: null, trigger: "start", dryRun: false },
      options,
    );
    expect(next.counts).toMatchObject({ created: 2, failed: 0 });
    expect(company.findUserByUserName(SEED_USERS.zoe.upn)?.attributes.title).toBe(
      "Changed after the preview",
    );
    expect(company.findUserByUserName(SEED_USERS.unassigned.upn)).toBeDefined();
  });

  test("a preview is applied once; discarded or superseded previews cannot be applied", async () => {
    await expect(applyPreview(t.db, connectionId, previewId, admin)).rejects.toThrow(/applied already/);
    const first = await computePreview();
    const second = await computePreview();
    expect((await readPreview(t.db, connectionId, first.id, { offset: 0, limit: 1 })).status).toBe(
      "superseded",
    );
    await expect(applyPreview(t.db, connectionId, first.id, admin)).rejects.toThrow(/newer preview/);
    await discardPreview(t.db, connectionId, second.id, admin);
    await expect(applyPreview(t.db, connectionId, second.id, admin)).rejects.toThrow(/discarded/);
    const audit = await t.db.auditEntry.findMany({ where: { connectionId }, select: { activity: true } });
    expect(audit.map((entry) => entry.activity)).toEqual(
      expect.arrayContaining(["Preview next cycle", "Apply previewed cycle", "Discard previewed cycle"]),
    );
  });

  test("with approval required, a cycle holds a disable; the preview shows it and applying it executes it", async () => {
    await t.db.connection.update({
      where: { id: connectionId },
      data: { requireApprovalForDeletions: true },
    });
    sandbox.graph.directory.unassign(SEED_USERS.admin.id);
    const held = await runProvisioningCycle(
      t.db,
      box,
      { connectionId, jobId: null, trigger: "start", dryRun: false },
      options,
    );
    expect(held.counts).toMatchObject({ held: 1, disabled: 0 });
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(1);
    const ada = () => sandbox.dialpad.company.findUserByUserName(SEED_USERS.admin.upn)!;
    expect(sandbox.dialpad.company.isActive(ada())).toBe(true);

    const preview = await computePreview();
    expect(preview.summary).toMatchObject({ needsApproval: true, impact: { disablesOrDeletes: 1 } });
    expect(preview.operations.items).toEqual([
      expect.objectContaining({
        kind: "disable",
        sourceId: SEED_USERS.admin.id,
        modifiedProperties: [{ displayName: "active", oldValue: true, newValue: false }],
      }),
    ]);
    await applyPreview(t.db, connectionId, preview.id, admin);
    await runPreviewJob(t.db, box, { connectionId, previewId: preview.id, mode: "apply" }, options);
    expect(sandbox.dialpad.company.isActive(ada())).toBe(false);
    expect(await t.db.heldChange.count({ where: { connectionId } })).toBe(0);
  });
});
