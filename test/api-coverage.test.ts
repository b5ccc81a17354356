import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ZProblem } from "@/lib/contracts/common";
import { API, type ApiDefinition } from "@/lib/server/api-definitions";
import { SEED_GROUPS, SEED_USERS } from "@/sandbox/graph/seed";
import { contractViolations } from "./contract-check";
import {
  callOperation,
  startHarness,
  type ApiResponse,
  type Harness,
  type OperationId,
} from "./security-harness";

/**
 * The documented API, operation by operation, generated from `API` (the source of the OpenAPI
 * document): every non-public route refuses a missing token (401) and a token without a role (403),
 * every write route refuses a Reader (403), each as problem+json with no-store; and every documented
 * operation is called once with valid input and answers its documented success status.
 */
let h: Harness;
const operations = Object.entries(API) as [OperationId, ApiDefinition][];
const writes = operations.filter(([, definition]) => definition.access === "write");
const protectedOperations = operations.filter(([, definition]) => definition.access !== "public");

beforeAll(async () => {
  h = await startHarness("api-coverage-test");
});

afterAll(async () => {
  await h?.close();
});

function expectProblem(response: ApiResponse, status: number) {
  expect(response.status).toBe(status);
  expect(response.contentType).toBe("application/problem+json");
  expect(response.cacheControl).toBe("no-store");
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^urn:problem:/) });
  expect(contractViolations(ZProblem, response.body)).toEqual([]);
}

describe("authorization of every documented route", () => {
  test("the write routes are the ones expected (a new write route lands in the loops below)", () => {
    expect(writes.length).toBeGreaterThanOrEqual(13);
    expect(writes.map(([id]) => id)).toContain("rotateSecretToken");
  });

  test.each(writes)("a Reader gets 403 problem+json from %s and changes nothing", async (operationId) => {
    const auditBefore = await h.t.db.auditEntry.count();
    const connectionBefore = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
    const response = await callOperation(operationId, {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      body: {},
    });
    expectProblem(response, 403);
    expect(response.body).toMatchObject({ title: "Forbidden" });
    expect(String(response.body?.detail)).toMatch(/Provisioning\.Admin/);
    expect(await h.t.db.auditEntry.count()).toBe(auditBefore);
    expect(await h.t.db.job.count()).toBe(0);
    const connectionAfter = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
    expect(connectionAfter.version).toBe(connectionBefore.version);
  });

  test.each(protectedOperations)("%s: no token is 401, no role is 403", async (operationId) => {
    const params = { connectionId: h.connectionId };
    const anonymous = await callOperation(operationId, { params });
    expectProblem(anonymous, 401);
    const forged = await callOperation(operationId, { params, token: `${h.tokens.admin.slice(0, -4)}AAAA` });
    expectProblem(forged, 401);
    expect(forged.text).not.toContain(h.tokens.admin.split(".")[2]!);
    expectProblem(await callOperation(operationId, { params, token: h.tokens.norole }), 403);
  });
});

describe("each documented route, called once", () => {
  const exercised = new Set<OperationId>();
  let created: string;
  let mappingConfig: unknown;
  let schema: unknown;

  /** Calls an operation with valid input and checks the documented success status and media type. */
  async function exercise(
    operationId: OperationId,
    options: {
      admin?: boolean;
      query?: string;
      body?: unknown;
      connectionId?: string;
      params?: Record<string, string>;
    } = {},
  ): Promise<ApiResponse> {
    const definition: ApiDefinition = API[operationId];
    const response = await callOperation(operationId, {
      token: options.admin || definition.access === "write" ? h.tokens.admin : h.tokens.reader,
      params: { connectionId: options.connectionId ?? h.connectionId, ...options.params },
      query: options.query,
      body: options.body,
    });
    expect(response.status, `${operationId}: ${response.text.slice(0, 300)}`).toBe(definition.success.status);
    expect(response.cacheControl, operationId).toBe("no-store");
    if (definition.success.status !== 204) {
      const declared = Object.entries({
        [definition.success.contentType ?? "application/json"]: definition.success.schema,
        ...definition.success.otherContent,
      }).find(([mediaType]) => response.contentType?.includes(mediaType));
      expect(declared, `${operationId} answered ${response.contentType}, not declared`).toBeDefined();
      const schema = declared![1];
      expect(schema, `${operationId} declares no response schema`).not.toBeNull();
      expect(contractViolations(schema!, response.body ?? response.text), operationId).toEqual([]);
    } else {
      expect(response.text, operationId).toBe("");
    }
    exercised.add(operationId);
    return response;
  }

  test("every operation in the OpenAPI document answers its documented success", async () => {
    const { sandbox } = h;
    await exercise("health");
    await exercise("me");
    await exercise("listConnections");
    created = String((await exercise("createConnection", { body: { name: "Coverage" } })).body?.id);
    await exercise("getConnection");
    await exercise("updateConnection", {
      body: { settings: { tenantUrl: sandbox.runtime.dialpad.tenantUrl, scheduleIntervalMinutes: 30 } },
    });
    const rotated = await exercise("rotateSecretToken", {
      body: { secretToken: sandbox.runtime.dialpad.apiKey, expiresAt: "2099-01-01T00:00:00Z" },
    });
    expect(rotated.body?.secretToken).toMatchObject({
      isSet: true,
      last4: sandbox.runtime.dialpad.apiKey.slice(-4),
      expiresAt: "2099-01-01T00:00:00.000Z",
    });
    expect((await exercise("testConnection", { body: {} })).body).toMatchObject({ ok: true });
    // The sandbox hub's catcher answers 204 only when the signature verifies with its secret.
    const webhookTest = await exercise("webhookTest", {
      body: { webhookUrl: sandbox.runtime.webhook.url, webhookSecret: sandbox.runtime.webhook.secret },
    });
    expect(webhookTest.body).toMatchObject({ ok: true, status: 204 });
    expect(sandbox.webhooks.events.at(-1)).toMatchObject({ type: "webhook.test", signature: "valid" });
    const selfTest = await exercise("targetSelfTest", { body: { createTemporaryUser: true } });
    expect(selfTest.body?.summary).toMatchObject({ fail: 0 });
    await exercise("searchDirectoryUsers", { query: "search=Jos" });
    const groups = await exercise("searchDirectoryGroups", { query: "search=Dialpad%20U" });
    expect(groups.body?.groups).toEqual([expect.objectContaining({ id: SEED_GROUPS.dialpadUsers.id })]);
    const members = await exercise("listDirectoryGroupMembers", {
      params: { groupId: SEED_GROUPS.dialpadUsers.id },
      query: "search=jose",
    });
    expect(members.body).toMatchObject({
      members: [expect.objectContaining({ id: SEED_USERS.jose.id, userPrincipalName: SEED_USERS.jose.upn })],
      total: 1,
      complete: true,
    });
    const why = await exercise("explainUser", { params: { objectId: SEED_USERS.zoe.id } });
    expect(why.body).toMatchObject({ operation: "create", decision: { action: "Create" } });
    const onDemand = await exercise("provisionOnDemand", {
      body: { subjects: [{ objectId: SEED_USERS.jose.id, objectTypeName: "User" }] },
    });
    expect(onDemand.body).toMatchObject({ action: "Create", status: "Success" });
    await exercise("getStatus");
    mappingConfig = (await exercise("getMappings")).body?.config;
    await exercise("putMappings", { body: mappingConfig });
    await exercise("restoreDefaultMappings");
    await exercise("previewExpression", {
      body: { expression: 'Join(" ", [givenName], [surname])', objectId: SEED_USERS.jose.id },
    });
    schema = (await exercise("exportSchema")).body;
    await exercise("importSchema", { body: schema });
    await exercise("listLogs", { query: "limit=5" });
    const failed = await h.t.db.provisioningLog.create({
      data: {
        connectionId: h.connectionId,
        changeId: crypto.randomUUID(),
        action: "Update",
        status: "Failure",
        objectType: "User",
        sourceId: SEED_USERS.jose.id,
        sourceDisplayName: "José Müller",
        errorCode: "SystemForCrossDomainIdentityManagementServiceIncompatible",
        initiatedBy: "System",
      },
    });
    const replayed = await exercise("replayLogEntry", { params: { logId: failed.id } });
    expect(replayed.body).toMatchObject({ replayOf: failed.id, status: "Skipped" });
    await exercise("exportLogs", { query: "format=csv" });
    await exercise("exportLogs", { query: "format=json" });
    const audit = await exercise("listAudit", { query: "activity=Provision%20on%20demand" });
    // The entry names the object by the display name the run read, not only by its id.
    expect(audit.body).toMatchObject({
      items: expect.arrayContaining([
        expect.objectContaining({
          object: expect.objectContaining({ id: SEED_USERS.jose.id, displayName: "José Müller" }),
        }),
      ]),
    });
    const report = String((await exercise("requestReconcile")).body?.id);
    await exercise("getReconcile", { query: `runId=${report}` });
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const read = await callOperation("getReconcile", {
        token: h.tokens.reader,
        params: { connectionId: h.connectionId },
        query: `runId=${report}`,
      });
      const status = (read.body?.run as { status?: string } | undefined)?.status;
      if (status === "succeeded") break;
      expect(status).not.toBe("failed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await exercise("reconcileAction", { body: { action: "suspendOrphans", dryRun: true } });
    await exercise("listReconcileFindings", { query: "category=orphan&reason=neverLinked&limit=5" });
    await exercise("exportReconcileFindings", { query: "format=csv&objectType=User" });
    const findingsJson = await exercise("exportReconcileFindings", { query: "format=json&category=orphan" });
    expect(findingsJson.contentType).toContain("application/json");
    await exercise("metrics");
    const waitForPreview = async (id: string, status: string) => {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const read = await callOperation("getPreview", {
          token: h.tokens.reader,
          params: { connectionId: h.connectionId, previewId: id },
        });
        if (read.body?.status === status) return read;
        expect(["failed"]).not.toContain(read.body?.status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`preview ${id} never became ${status}`);
    };
    const discarded = String((await exercise("requestPreview")).body?.id);
    await waitForPreview(discarded, "ready");
    await exercise("discardPreview", { params: { previewId: discarded } });
    const preview = String((await exercise("requestPreview")).body?.id);
    await waitForPreview(preview, "ready");
    await exercise("getPreview", { params: { previewId: "latest" }, query: "kind=create&limit=5" });
    await exercise("applyPreview", { params: { previewId: preview } });
    await waitForPreview(preview, "applied");
    await exercise("start");
    await exercise("stop");
    await exercise("restart", { body: { criteria: ["Watermark"] } });
    await exercise("allowDeletes");
    await exercise("stop");
    await exercise("deleteConnection", { connectionId: created });

    expect([...exercised].sort()).toEqual(Object.keys(API).sort());
  });

  test("rotating the key is audited with the key masked", async () => {
    const entries = await h.t.db.auditEntry.findMany({ where: { connectionId: h.connectionId } });
    const rotation = entries.find((entry) => JSON.stringify(entry.changes).includes("Rotate secret token"));
    expect(rotation).toMatchObject({
      activity: "Update provisioning setting or credentials",
      actorUpn: "admin@contoso.example",
    });
    const key = h.sandbox.runtime.dialpad.apiKey;
    expect(rotation?.changes).toMatchObject({
      secretToken: { before: "(not set)", after: `••••${key.slice(-4)}` },
      secretTokenExpiresAt: { after: "2099-01-01T00:00:00.000Z" },
    });
    expect(JSON.stringify(entries.map((entry) => entry.changes))).not.toContain(key);
  });

  test("a rotation with an unknown field or an empty key is refused by field", async () => {
    const response = await callOperation("rotateSecretToken", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { secretToken: "", apiKey: "x" },
    });
    expectProblem(response, 422);
    const fields = (response.body?.errors as { field: string }[]).map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(["secretToken", "apiKey"]));
  });
});
