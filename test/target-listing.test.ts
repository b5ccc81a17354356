import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { explainUser } from "@/lib/server/explain";
import { applyRestartCriteria } from "@/lib/server/held-changes";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * Matching against a listing of Dialpad: an initial cycle reads Dialpad's users in pages (one request
 * per 100) instead of a filter query per user, so a create costs one request; the same listing finds
 * links whose Dialpad user is gone, so Preview, Why? and the cycle agree after Dialpad lost data.
 * Real HTTPS to the emulators, a real PostgreSQL.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "target-listing", secretKey }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const cycle = (options: { dryRun?: boolean; previewId?: string } = {}) =>
  runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "start", dryRun: options.dryRun ?? false },
    { mailer: null, requestsPerSecond: 1_000 },
  );

const userRequests = (from: number) =>
  sandbox.dialpad.requests.slice(from).filter((request) => request.path.startsWith("/scim/Users"));
const filterQueries = (from: number) =>
  userRequests(from).filter((request) => request.method === "GET" && request.query.filter !== undefined);
const inDialpad = () => [...sandbox.dialpad.company.users.values()];

describe("matching against a listing of Dialpad", () => {
  let inScope = 0;

  test("an initial cycle against an empty Dialpad sends one request per created user, no lookups", async () => {
    const before = sandbox.dialpad.requests.length;
    const summary = await cycle();
    expect(summary).toMatchObject({ status: "succeeded", type: "initial" });
    inScope = summary.counts!.created - sandbox.dialpad.company.groups.size;
    const posts = userRequests(before).filter((request) => request.method === "POST");
    expect(posts.length).toBe(inDialpad().length);
    // The credentials probe is the only filter query; the listing of an empty company is one page.
    expect(filterQueries(before)).toHaveLength(1);
    const listings = userRequests(before).filter(
      (request) => request.method === "GET" && request.query.filter === undefined,
    );
    expect(listings).toHaveLength(1);
    expect(userRequests(before).length / posts.length).toBeLessThanOrEqual(1.05);
  });

  test("against a Dialpad that holds half the users (no links), those are matched, not created again", async () => {
    const users = inDialpad();
    const kept = new Set(users.filter((_, index) => index % 2 === 0).map((user) => user.id));
    for (const user of users) if (!kept.has(user.id)) sandbox.dialpad.company.deleteUser(user.id);
    // "Restart, and match everything again": links, watermark and escrows cleared.
    await applyRestartCriteria(t.db, connectionId, ["Full"], { box, initiatedBy: TEST_ADMIN });
    const before = sandbox.dialpad.requests.length;
    const summary = await cycle();
    expect(summary).toMatchObject({ status: "succeeded", type: "initial" });
    const after = inDialpad();
    expect(after).toHaveLength(users.length);
    expect(new Set(after.map((user) => String(user.attributes.userName).toLowerCase())).size).toBe(
      users.length,
    );
    // Kept users are the same Dialpad users, now linked again.
    for (const id of kept) expect(sandbox.dialpad.company.users.has(id)).toBe(true);
    const posts = userRequests(before).filter((request) => request.method === "POST");
    expect(posts).toHaveLength(users.length - kept.size);
    expect(userRequests(before).filter((request) => request.method === "PATCH")).toHaveLength(0);
    expect(filterQueries(before)).toHaveLength(1);
    // A listing page per 100 users, the creates, the probe: about one request per user in scope.
    expect(userRequests(before).length / users.length).toBeLessThanOrEqual(1.05);
    expect(await t.db.objectLink.count({ where: { connectionId, objectType: "User" } })).toBe(users.length);
  });

  test("after Dialpad lost every user, Preview, Why? and the next full cycle all say create", async () => {
    const linked = await t.db.objectLink.count({ where: { connectionId, objectType: "User" } });
    expect(linked).toBeGreaterThan(0);
    for (const user of inDialpad()) sandbox.dialpad.company.deleteUser(user.id);

    const preview = await t.db.planPreview.create({ data: { connectionId, requestedBy: TEST_ADMIN.upn } });
    const planned = await runProvisioningCycle(
      t.db,
      box,
      { connectionId, jobId: null, trigger: "start", dryRun: true, previewId: preview.id },
      { mailer: null, requestsPerSecond: 1_000 },
    );
    const userCreates = planned.plan!.operations.filter(
      (operation) => operation.objectType === "User" && operation.kind === "create",
    );
    expect(userCreates).toHaveLength(linked);
    expect(inDialpad()).toHaveLength(0);

    const why = await explainUser(t.db, box, { connectionId, objectId: SEED_USERS.zoe.id });
    expect(why.decision).toMatchObject({
      action: "Create",
      statusInfo: { errorCode: "ExplainOnly", reason: expect.stringMatching(/would create the user/) },
    });

    await applyRestartCriteria(t.db, connectionId, [], { box, initiatedBy: TEST_ADMIN });
    const summary = await cycle();
    expect(summary).toMatchObject({ status: "succeeded", type: "initial" });
    expect(summary.counts).toMatchObject({ created: expect.any(Number), failed: 0 });
    const recreated = inDialpad();
    expect(recreated).toHaveLength(linked);
    expect(new Set(recreated.map((user) => String(user.attributes.userName).toLowerCase())).size).toBe(
      linked,
    );
    const logs = await t.db.provisioningLog.findMany({
      where: { cycleId: summary.cycleId!, objectType: "User", action: "Create", status: "Success" },
    });
    expect(logs).toHaveLength(linked);
    expect(inScope).toBeGreaterThan(0);
  });
});
