import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { explainUser } from "@/lib/server/explain";
import { runOnDemand } from "@/lib/server/on-demand";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness } from "./engine-harness";

/**
 * "Why?" for one user: the same pipeline as on-demand provisioning, stopped before any write, with every
 * mapping evaluated. Real HTTPS to the emulators and a real PostgreSQL.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "explain", secretKey }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const explain = (objectId: string) => explainUser(t.db, box, { connectionId, objectId });
const writes = () => sandbox.dialpad.requests.filter((request) => request.method !== "GET");

describe("explain a user", () => {
  test("a new user: what would be created, each mapping's value, and nothing written anywhere", async () => {
    const writesBefore = writes().length;
    const explained = await explain(SEED_USERS.zoe.id);
    expect(explained.operation).toBe("create");
    expect(explained.decision).toMatchObject({
      action: "Create",
      status: "Skipped",
      statusInfo: { errorCode: "ExplainOnly", reason: expect.stringMatching(/would create the user/) },
    });
    expect(explained.source).toMatchObject({ userPrincipalName: SEED_USERS.zoe.upn, givenName: "Zoë" });
    const byTarget = Object.fromEntries(explained.attributes.map((entry) => [entry.target, entry]));
    expect(byTarget.userName).toMatchObject({ outcome: "exports", value: SEED_USERS.zoe.upn });
    expect(byTarget["name.givenName"]).toMatchObject({ outcome: "exports", value: "Zoë" });
    expect(explained.decision.modifiedProperties).toContainEqual(
      expect.objectContaining({ displayName: "userName", newValue: SEED_USERS.zoe.upn }),
    );
    expect(writes()).toHaveLength(writesBefore);
    expect(sandbox.dialpad.company.findUserByUserName(SEED_USERS.zoe.upn)).toBeUndefined();
    expect(await t.db.objectLink.count({ where: { connectionId } })).toBe(0);
    expect(await t.db.provisioningLog.count({ where: { connectionId } })).toBe(0);
  });

  test("a provisioned user whose title changed: the update with old and new value", async () => {
    await runOnDemand(t.db, box, {
      connectionId,
      subject: { objectId: SEED_USERS.zoe.id, objectTypeName: "User" },
      initiatedBy: "admin@contoso.example",
      jobId: null,
    });
    const oldTitle = sandbox.graph.directory.getUser(SEED_USERS.zoe.id)!.jobTitle;
    sandbox.graph.directory.updateUser(SEED_USERS.zoe.id, { jobTitle: "Chief Umlaut Officer" });
    const writesBefore = writes().length;
    const explained = await explain(SEED_USERS.zoe.id);
    expect(explained.operation).toBe("update");
    expect(explained.decision).toMatchObject({
      action: "Update",
      modifiedProperties: [{ displayName: "title", oldValue: oldTitle, newValue: "Chief Umlaut Officer" }],
    });
    const matching = explained.decision.provisioningSteps.find((step) => step.type === "Matching");
    expect(matching?.description).toMatch(/linked id/);
    expect(writes()).toHaveLength(writesBefore);
  });

  test("a Default Access user: out of scope, and the scoping step says why", async () => {
    const explained = await explain(SEED_USERS.defaultAccessOnly.id);
    expect(explained.decision).toMatchObject({ action: "Other", status: "Skipped" });
    const scoping = explained.decision.provisioningSteps.find((step) => step.type === "Scoping");
    expect(scoping?.description).toMatch(/Default Access/);
  });
});
