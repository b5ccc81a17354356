import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { resetEnvironmentCache } from "@/lib/config/env";
import { resetServerContext } from "@/lib/server/context";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { SecretBox } from "@/lib/crypto/secrets";
import { JobWorker } from "@/lib/jobs/runner";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { SEED_GROUPS, SEED_USERS } from "@/sandbox/graph/seed";
import { createTestDatabase, type TestDatabase } from "./database";
import * as connectionsRoute from "@/app/api/connections/route";
import * as connectionRoute from "@/app/api/connections/[connectionId]/route";
import * as testConnectionRoute from "@/app/api/connections/[connectionId]/test-connection/route";
import * as onDemandRoute from "@/app/api/connections/[connectionId]/provision-on-demand/route";
import * as logsRoute from "@/app/api/connections/[connectionId]/logs/route";
import * as meRoute from "@/app/api/me/route";
import * as mappingsRoute from "@/app/api/connections/[connectionId]/mappings/route";
import * as restoreRoute from "@/app/api/connections/[connectionId]/mappings/restore-defaults/route";
import * as schemaRoute from "@/app/api/connections/[connectionId]/schema/route";
import * as auditRoute from "@/app/api/connections/[connectionId]/audit/route";
import * as exportRoute from "@/app/api/connections/[connectionId]/logs/export/route";
import * as statusRoute from "@/app/api/connections/[connectionId]/status/route";
import * as startRoute from "@/app/api/connections/[connectionId]/start/route";
import * as stopRoute from "@/app/api/connections/[connectionId]/stop/route";
import * as metricsRoute from "@/app/api/metrics/route";
import * as restartRoute from "@/app/api/connections/[connectionId]/restart/route";
import * as allowDeletesRoute from "@/app/api/connections/[connectionId]/allow-deletes/route";

/**
 * The REST API as a client sees it: real bearer tokens from the sandbox OpenID provider, route handlers
 * running against a real PostgreSQL, and a real worker talking HTTPS to the Graph and Dialpad emulators.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let worker: JobWorker;
let connectionId: string;
let tokens: Record<"admin" | "reader" | "norole", string>;
const secretKey = crypto.randomBytes(32).toString("base64");

beforeAll(async () => {
  sandbox = await startSandbox({
    dataDir: os.tmpdir(),
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
  });
  t = await createTestDatabase();
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    SANDBOX: "on",
    SECRET_KEY: secretKey,
    DATA_DIR: path.join(os.tmpdir(), "provisioning-api-test"),
    AUTH_AUTHORITY: sandbox.runtime.identity.authority,
    AUTH_ISSUER: sandbox.runtime.identity.issuer,
    AUTH_JWKS_URI: sandbox.runtime.identity.jwksUri,
    AUTH_API_AUDIENCE: sandbox.runtime.console.apiAudience,
    LOG_LEVEL: "silent",
  });
  resetEnvironmentCache();
  resetServerContext();
  connectionId = await ensureSandboxConnection(
    t.db,
    new SecretBox(Buffer.from(secretKey, "base64")),
    sandbox.runtime,
  );
  // The tests press Start themselves; continuous mode would start cycles of its own in between.
  await t.db.connection.update({ where: { id: connectionId }, data: { scheduleMode: "interval" } });
  const silent = { info() {}, warn() {}, error() {} };
  worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: silent,
    pollIntervalMs: 100,
    handlers: createJobHandlers({ db: t.db, log: silent }),
  });
  await worker.start();
  tokens = {
    admin: await sandbox.identity.issueAccessTokenForTesting("admin@contoso.example"),
    reader: await sandbox.identity.issueAccessTokenForTesting("reader@contoso.example"),
    norole: await sandbox.identity.issueAccessTokenForTesting("norole@contoso.example"),
  };
});

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function call(
  handler: Handler,
  options: {
    token?: string;
    method?: string;
    path?: string;
    params?: Record<string, string>;
    body?: unknown;
  },
) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await handler(
    new Request(`http://localhost${options.path ?? "/api/test"}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve(options.params ?? {}) },
  );
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text,
    body:
      text && /json/.test(response.headers.get("content-type") ?? "")
        ? (JSON.parse(text) as Record<string, unknown>)
        : null,
  };
}

describe("authorization", () => {
  test("no token is a 401 problem, and the response names no secret", async () => {
    const response = await call(connectionsRoute.GET, {});
    expect(response.status).toBe(401);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body).toMatchObject({ status: 401, title: "Not signed in" });
  });

  test("a user without a role is refused even for reading", async () => {
    expect((await call(meRoute.GET, { token: tokens.norole })).status).toBe(403);
  });

  test("a Reader reads but cannot change settings", async () => {
    expect((await call(connectionsRoute.GET, { token: tokens.reader })).status).toBe(200);
    const patch = await call(connectionRoute.PATCH, {
      token: tokens.reader,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { notificationEmail: "x@contoso.example" } },
    });
    expect(patch.status).toBe(403);
    expect(patch.body).toMatchObject({ title: "Forbidden" });
  });
});

describe("settings", () => {
  test("an invalid tenant URL is refused by field and nothing else in the request is saved", async () => {
    const response = await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { tenantUrl: "http://dialpad.com/scim", scheduleIntervalMinutes: 15 } },
    });
    expect(response.status).toBe(422);
    expect(response.body?.errors).toEqual([
      { field: "tenantUrl", message: "The tenant URL must use https." },
    ]);
    const after = await call(connectionRoute.GET, { token: tokens.admin, params: { connectionId } });
    expect(after.body).toMatchObject({ scheduleIntervalMinutes: 40, tenantUrl: null });
  });

  test("deletion safety settings: SkipOutOfScopeDeletions and the shrink limit are saved and audited; out of range is refused", async () => {
    const refused = await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { skipOutOfScopeDeletions: true, sourceShrinkPercent: 0 } },
    });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body?.errors)).toContain("sourceShrinkPercent");
    expect(JSON.stringify(refused.body?.errors)).toContain("must be at least 1 %");
    const unchanged = await call(connectionRoute.GET, { token: tokens.admin, params: { connectionId } });
    expect(unchanged.body).toMatchObject({ skipOutOfScopeDeletions: false, sourceShrinkPercent: 30 });

    const saved = await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { skipOutOfScopeDeletions: true, sourceShrinkPercent: 50 } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ skipOutOfScopeDeletions: true, sourceShrinkPercent: 50 });
    const audit = await t.db.auditEntry.findFirstOrThrow({
      where: { connectionId },
      orderBy: { at: "desc" },
    });
    expect(audit.changes).toMatchObject({
      skipOutOfScopeDeletions: { before: false, after: true },
      sourceShrinkPercent: { before: 30, after: 50 },
    });
    await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { skipOutOfScopeDeletions: false, sourceShrinkPercent: 30 } },
    });
  });

  test("unknown fields are rejected by name", async () => {
    const response = await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { tenantURL: "https://dialpad.com/scim" } },
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body?.errors)).toContain("tenantURL");
  });

  test("the secret token is stored encrypted and only its last four characters come back", async () => {
    const key = sandbox.runtime.dialpad.apiKey;
    const saved = await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId },
      body: { settings: { tenantUrl: sandbox.runtime.dialpad.tenantUrl, secretToken: key } },
    });
    expect(saved.status).toBe(200);
    expect(saved.text).not.toContain(key);
    expect(saved.body?.secretToken).toMatchObject({ isSet: true, last4: key.slice(-4) });
    const row = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(row.secretTokenCipher).not.toContain(key);
    const audit = await t.db.auditEntry.findMany({ where: { connectionId } });
    expect(JSON.stringify(audit.map((entry) => entry.changes))).not.toContain(key);
    expect(audit.map((entry) => entry.activity)).toContain("Update provisioning setting or credentials");
  });
});

describe("deleting a connection", () => {
  test("is refused while provisioning is On, and deletes it with its history once Off", async () => {
    const created = await call(connectionsRoute.POST, {
      token: tokens.admin,
      method: "POST",
      body: { name: "To delete", provisioningEnabled: true },
    });
    expect(created.status).toBe(201);
    const id = String(created.body?.id);
    const refused = await call(connectionRoute.DELETE, {
      token: tokens.admin,
      method: "DELETE",
      params: { connectionId: id },
    });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain("Turn provisioning off");
    await call(connectionRoute.PATCH, {
      token: tokens.admin,
      method: "PATCH",
      params: { connectionId: id },
      body: { settings: { provisioningEnabled: false } },
    });
    // Readers may look, not delete.
    const asReader = await call(connectionRoute.DELETE, {
      token: tokens.reader,
      method: "DELETE",
      params: { connectionId: id },
    });
    expect(asReader.status).toBe(403);
    const deleted = await call(connectionRoute.DELETE, {
      token: tokens.admin,
      method: "DELETE",
      params: { connectionId: id },
    });
    expect(deleted.status).toBe(204);
    const gone = await call(connectionRoute.GET, { token: tokens.admin, params: { connectionId: id } });
    expect(gone.status).toBe(404);
  });
});

describe("test connection", () => {
  test("a wrong key fails with a message naming the 401; the saved key passes", async () => {
    const wrong = await call(testConnectionRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: { secretToken: "not-the-key" },
    });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatchObject({ ok: false });
    expect(String(wrong.body?.message)).toMatch(/401/);
    const right = await call(testConnectionRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: {},
    });
    expect(right.body).toMatchObject({ ok: true });
  });
});

describe("provision on demand", () => {
  const provision = (objectId: string) =>
    call(onDemandRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: { subjects: [{ objectId, objectTypeName: "User" }] },
    });

  test("a user assigned with Default Access only is out of scope, and the step says why", async () => {
    const response = await provision(SEED_USERS.defaultAccessOnly.id);
    expect(response.body).toMatchObject({ action: "Other", status: "Skipped" });
    const steps = response.body?.provisioningSteps as { name: string; description: string }[];
    expect(steps.find((step) => step.name === "EntrySynchronizationScoping")?.description).toMatch(
      /Default Access/,
    );
    expect(sandbox.dialpad.company.findUserByUserName(SEED_USERS.defaultAccessOnly.upn)).toBeUndefined();
  });

  test("a new user is created with the mapped attributes; the second run sends no write", async () => {
    const first = await provision(SEED_USERS.jose.id);
    expect(first.body).toMatchObject({ action: "Create", status: "Success" });
    const created = sandbox.dialpad.company.findUserByUserName(SEED_USERS.jose.upn);
    expect(created).toBeDefined();
    expect(sandbox.dialpad.company.toScimUser(created!)).toMatchObject({
      name: { givenName: "José", familyName: "Müller" },
      active: true,
    });

    const writesBefore = sandbox.dialpad.requests.filter((request) => request.method !== "GET").length;
    const second = await provision(SEED_USERS.jose.id);
    expect(second.body).toMatchObject({
      action: "Other",
      status: "Skipped",
      statusInfo: { errorCode: "RedundantExport" },
    });
    expect(sandbox.dialpad.requests.filter((request) => request.method !== "GET").length).toBe(writesBefore);

    const logs = await call(logsRoute.GET, {
      token: tokens.reader,
      params: { connectionId },
      path: `/api/connections/${connectionId}/logs?limit=2`,
    });
    const items = logs.body?.items as { action: string; status: string; initiatedBy: string }[];
    expect(items.map((item) => `${item.action}/${item.status}`)).toEqual(["Other/Skipped", "Create/Success"]);
    expect(items[0]?.initiatedBy).toBe("admin@contoso.example");
  });

  test("a group with its chosen members: one answer with the group's steps and each member's result", async () => {
    const response = await call(onDemandRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: {
        subjects: [
          {
            objectId: SEED_GROUPS.dialpadUsers.id,
            objectTypeName: "Group",
            links: {
              members: [
                { objectId: SEED_USERS.jose.id, objectTypeName: "User" },
                { objectId: SEED_USERS.directAndGroup.id, objectTypeName: "User" },
              ],
            },
          },
        ],
      },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      action: "Create",
      status: "Success",
      sourceIdentity: { id: SEED_GROUPS.dialpadUsers.id, type: "Group" },
      members: [
        // José was provisioned on his own above; Gabe is new.
        { action: "Other", status: "Skipped", sourceIdentity: { id: SEED_USERS.jose.id } },
        { action: "Create", status: "Success", sourceIdentity: { id: SEED_USERS.directAndGroup.id } },
      ],
    });
    const group = sandbox.dialpad.company.listGroups({
      filter: `displayName eq "${SEED_GROUPS.dialpadUsers.displayName}"`,
    }).resources[0];
    const memberIds = [SEED_USERS.jose.upn, SEED_USERS.directAndGroup.upn].map(
      (upn) => sandbox.dialpad.company.findUserByUserName(upn)!.id,
    );
    expect([...group!.members].sort()).toEqual(memberIds.sort());
  });

  test("more than five members, or a member twice, is refused field by field and nothing runs", async () => {
    const jobsBefore = await t.db.job.count();
    const members = (count: number, id?: string) =>
      Array.from({ length: count }, (_, index) => ({
        objectId: id ?? `10000000-0000-4000-8000-0000000001${String(index).padStart(2, "0")}`,
        objectTypeName: "User",
      }));
    const refuse = async (subject: unknown) => {
      const response = await call(onDemandRoute.POST, {
        token: tokens.admin,
        method: "POST",
        params: { connectionId },
        body: { subjects: [subject] },
      });
      expect(response.status).toBe(422);
      return (response.body?.errors as { field: string; message: string }[])[0];
    };
    const group = { objectId: SEED_GROUPS.dialpadUsers.id, objectTypeName: "Group" };
    expect(await refuse({ ...group, links: { members: members(6) } })).toEqual({
      field: "subjects.0.links.members",
      message: expect.stringMatching(/at most 5 members/),
    });
    expect(await refuse({ ...group, links: { members: members(2, SEED_USERS.jose.id) } })).toMatchObject({
      field: "subjects.0.links.members",
      message: expect.stringMatching(/once/),
    });
    expect(
      await refuse({ objectId: SEED_USERS.jose.id, objectTypeName: "User", links: { members: [] } }),
    ).toMatchObject({ field: "subjects.0" });
    expect(await t.db.job.count()).toBe(jobsBefore);
  });
});

describe("mappings, schema, audit and export", () => {
  test("an expression with a syntax error is refused with its field path and position; nothing is saved", async () => {
    const current = await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } });
    const config = structuredClone(
      (
        current.body as {
          config: { users: { attributeMappings: { target: string; type: string; source: string }[] } };
        }
      ).config,
    );
    const title = config.users.attributeMappings.find((mapping) => mapping.target === "title")!;
    title.type = "Expression";
    title.source = 'Append([jobTitle], "x"';
    const response = await call(mappingsRoute.PUT, {
      token: tokens.admin,
      method: "PUT",
      params: { connectionId },
      body: config,
    });
    expect(response.status).toBe(422);
    const errors = response.body?.errors as { field: string; message: string }[];
    const index = config.users.attributeMappings.indexOf(title);
    expect(errors[0]?.field).toBe(`users.attributeMappings.${index}.source`);
    expect(errors[0]?.message).toMatch(/line 1, column \d+/);
    // The position is given once, not once by the parser and again by the API.
    expect(errors[0]?.message.match(/column/g)).toHaveLength(1);
    expect(
      (await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } })).body,
    ).toMatchObject({ isDefault: true });
  });

  test("a saved mapping change is audited and a Reader cannot make one", async () => {
    const current = await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } });
    const config = structuredClone(
      (
        current.body as {
          config: { users: { attributeMappings: { target: string; type: string; source: string }[] } };
        }
      ).config,
    );
    config.users.attributeMappings.find((mapping) => mapping.target === "title")!.source = "department";
    expect(
      (
        await call(mappingsRoute.PUT, {
          token: tokens.reader,
          method: "PUT",
          params: { connectionId },
          body: config,
        })
      ).status,
    ).toBe(403);
    const saved = await call(mappingsRoute.PUT, {
      token: tokens.admin,
      method: "PUT",
      params: { connectionId },
      body: config,
    });
    expect(saved.status).toBe(200);
    const audit = await call(auditRoute.GET, {
      token: tokens.reader,
      params: { connectionId },
      path: `/api/connections/${connectionId}/audit`,
    });
    const latest = (
      audit.body?.items as { activity: string; actor: { upn: string }; changes: Record<string, unknown> }[]
    )[0]!;
    expect(latest).toMatchObject({
      activity: "Update attribute mappings or scope",
      actor: { upn: "admin@contoso.example" },
    });
    expect(latest.changes["users.title"]).toEqual({
      before: "Direct: jobTitle",
      after: "Direct: department",
    });
    await call(restoreRoute.POST, { token: tokens.admin, method: "POST", params: { connectionId } });
    expect(
      (await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } })).body,
    ).toMatchObject({ isDefault: true });
  });

  test("Entra's schema JSON exports and imports back to the same configuration", async () => {
    const before = await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } });
    const exported = await call(schemaRoute.GET, { token: tokens.reader, params: { connectionId } });
    expect(JSON.stringify(exported.body)).toContain("synchronizationRules");
    const imported = await call(schemaRoute.PUT, {
      token: tokens.admin,
      method: "PUT",
      params: { connectionId },
      body: exported.body,
    });
    expect(imported.status).toBe(200);
    const again = await call(schemaRoute.GET, { token: tokens.reader, params: { connectionId } });
    expect(again.body).toEqual(exported.body);
    // What the JSON cannot carry (descriptions, case-exact comparison) survives the round trip too.
    const after = await call(mappingsRoute.GET, { token: tokens.reader, params: { connectionId } });
    expect(JSON.stringify(before.body)).toContain('"description"');
    expect(after.body).toEqual(before.body);
  });

  test("the CSV export streams every log entry with a header row", async () => {
    const response = await call(exportRoute.GET, {
      token: tokens.reader,
      params: { connectionId },
      path: `/api/connections/${connectionId}/logs/export?format=csv`,
    });
    expect(response.status).toBe(200);
    const lines = response.text.trim().split("\r\n");
    expect(lines[0]).toContain('"Change ID"');
    expect(lines.length - 1).toBe(await t.db.provisioningLog.count({ where: { connectionId } }));
    const json = await call(exportRoute.GET, {
      token: tokens.reader,
      params: { connectionId },
      path: `/api/connections/${connectionId}/logs/export?format=json`,
    });
    expect(JSON.parse(json.text)).toHaveLength(lines.length - 1);
  });
});

describe("start, stop and status", () => {
  test("start queues a cycle and turns provisioning on; stop pauses and leaves nothing queued", async () => {
    const before = await call(statusRoute.GET, { token: tokens.reader, params: { connectionId } });
    expect(before.body).toMatchObject({ code: "NotRun", provisioningEnabled: false });

    expect(
      (await call(startRoute.POST, { token: tokens.reader, method: "POST", params: { connectionId } }))
        .status,
    ).toBe(403);
    const started = await call(startRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
    });
    expect(started.status).toBe(200);
    expect(["queued", "moved-to-now", "already-running"]).toContain(started.body?.outcome);
    const stopped = await call(stopRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
    });
    expect(stopped.status).toBe(200);

    const after = await call(statusRoute.GET, { token: tokens.reader, params: { connectionId } });
    expect(after.body).toMatchObject({ paused: true, provisioningEnabled: true, nextCycleAt: null });
    const activities = (
      await t.db.auditEntry.findMany({ where: { connectionId }, orderBy: { seq: "asc" } })
    ).map((entry) => entry.activity);
    expect(activities).toEqual(
      expect.arrayContaining([
        "Enable/start provisioning configuration",
        "Disable/pause provisioning configuration",
      ]),
    );
  });
});

describe("metrics", () => {
  test("Prometheus text with job and quarantine gauges, for Readers only", async () => {
    expect((await call(metricsRoute.GET, {})).status).toBe(401);
    const response = await call(metricsRoute.GET, { token: tokens.reader });
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^# HELP provisioning_jobs/m);
    expect(response.text).toContain(`connection_id="${connectionId}"`);
  });
});

describe("restart and allow deletes", () => {
  test("restart applies the reset criteria and is audited; allow deletes with nothing held does nothing", async () => {
    const invalid = await call(restartRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: { criteria: ["Everything"] },
    });
    expect(invalid.status).toBe(422);
    expect(JSON.stringify(invalid.body?.errors)).toContain("criteria.0");

    const restarted = await call(restartRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
      body: { criteria: ["Watermark", "Escrows"] },
    });
    expect(restarted.status).toBe(200);
    expect(restarted.body?.applied).toEqual(expect.arrayContaining(["Watermark", "Escrows"]));
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(connection.usersDeltaLink).toBeNull();

    const allowed = await call(allowDeletesRoute.POST, {
      token: tokens.admin,
      method: "POST",
      params: { connectionId },
    });
    expect(allowed.body).toEqual({ executed: 0, failed: 0 });
    expect(
      (await call(allowDeletesRoute.POST, { token: tokens.reader, method: "POST", params: { connectionId } }))
        .status,
    ).toBe(403);
    await call(stopRoute.POST, { token: tokens.admin, method: "POST", params: { connectionId } });
  });
});
