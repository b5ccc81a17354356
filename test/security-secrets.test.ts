import crypto from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { SANDBOX_GRAPH_CLIENT } from "@/sandbox/graph/server";
import { SEED_USERS } from "@/sandbox/graph/seed";
import { callOperation, startHarness, type ApiResponse, type Harness } from "./security-harness";

/**
 * The secret scan: after a run that includes failures (a wrong key in Test Connection, on-demand and a
 * whole cycle with a revoked key, quarantine and its e-mail, rejected tokens), none of the Dialpad keys,
 * the Graph client secret or the bearer tokens used appears in the database (outside the cipher
 * columns), the process logs (captured at trace level), any API response, the log exports or the mail.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness("secret-scan-test");
});

afterAll(async () => {
  await h?.close();
});

test("no secret or bearer token leaks anywhere after a run with failures", { timeout: 120_000 }, async () => {
  const { sandbox, tokens, connectionId } = h;
  const goodKey = sandbox.runtime.dialpad.apiKey;
  const typedWrongKey = `typed-${crypto.randomBytes(16).toString("hex")}`;
  const revokedKey = `revoked-${crypto.randomBytes(16).toString("hex")}`;
  const graphSecret = SANDBOX_GRAPH_CLIENT.clientSecret;
  const wrongAudience = await sandbox.identity.issueAccessTokenForTesting("admin@contoso.example", {
    audience: "api://someone-else",
  });
  const expired = await sandbox.identity.issueAccessTokenForTesting("admin@contoso.example", {
    expiresInSeconds: -600,
  });
  const bearerTokens = [tokens.admin, tokens.reader, tokens.norole, wrongAudience, expired];

  const responses: ApiResponse[] = [];
  const api = async (...args: Parameters<typeof callOperation>) => {
    const response = await callOperation(...args);
    responses.push(response);
    return response;
  };
  const admin = { token: tokens.admin, params: { connectionId } };
  const reader = { token: tokens.reader, params: { connectionId } };

  // Settings with both secrets typed, then a failing Test Connection with a typed wrong key.
  expect(
    (
      await api("updateConnection", {
        ...admin,
        body: {
          settings: {
            tenantUrl: sandbox.runtime.dialpad.tenantUrl,
            secretToken: goodKey,
            graphClientSecret: graphSecret,
            notificationEmail: "it-alerts@contoso.example",
            notifyOnFailure: true,
            provisioningEnabled: true,
          },
        },
      })
    ).status,
  ).toBe(200);
  expect(
    (await api("testConnection", { ...admin, body: { secretToken: typedWrongKey } })).body,
  ).toMatchObject({
    ok: false,
  });
  // Validation errors echo no secret even when the secret is the invalid part.
  expect(
    (
      await api("updateConnection", {
        ...admin,
        body: { settings: { secretToken: goodKey, apiKey: goodKey } },
      })
    ).status,
  ).toBe(422);

  // The key is revoked at Dialpad: on demand fails, a whole cycle fails and quarantines (with e-mail).
  expect((await api("rotateSecretToken", { ...admin, body: { secretToken: revokedKey } })).status).toBe(200);
  const failedOnDemand = await api("provisionOnDemand", {
    ...admin,
    body: { subjects: [{ objectId: SEED_USERS.jose.id, objectTypeName: "User" }] },
  });
  expect(failedOnDemand.text).toMatch(/Fail|401|credential/i);
  const failedCycle = await runProvisioningCycle(
    h.t.db,
    h.box,
    { connectionId, jobId: null, trigger: "start", dryRun: false },
    { mailer: h.mailer, requestsPerSecond: 1_000, log: h.log },
  );
  expect(failedCycle.status).toBe("failed");

  // Rejected bearer tokens: wrong audience, expired, no role, Reader writing.
  expect((await api("getConnection", { token: wrongAudience, params: { connectionId } })).status).toBe(401);
  expect((await api("getConnection", { token: expired, params: { connectionId } })).status).toBe(401);
  expect((await api("getConnection", { token: tokens.norole, params: { connectionId } })).status).toBe(403);
  expect((await api("rotateSecretToken", { ...reader, body: { secretToken: goodKey } })).status).toBe(403);

  // The right key again: restart clears the quarantine, a cycle and an on-demand succeed.
  expect((await api("rotateSecretToken", { ...admin, body: { secretToken: goodKey } })).status).toBe(200);
  expect((await api("restart", { ...admin, body: { criteria: ["QuarantineState"] } })).status).toBe(200);
  // The worker runs the queued cycle (runProvisioningCycle, 1000 requests/second, the sandbox mail).
  await expect
    .poll(
      async () =>
        (await h.t.db.cycle.findMany({ where: { connectionId }, orderBy: { startedAt: "asc" } })).map(
          (cycle) => cycle.status,
        ),
      { timeout: 60_000, interval: 200 },
    )
    .toEqual(["failed", "succeeded"]);
  await api("provisionOnDemand", {
    ...admin,
    body: { subjects: [{ objectId: SEED_USERS.jose.id, objectTypeName: "User" }] },
  });

  // Everything a reader or an export shows.
  for (const operationId of ["getConnection", "listConnections", "getStatus", "me"] as const)
    await api(operationId, reader);
  await api("listLogs", { ...reader, query: "limit=500" });
  await api("listAudit", { ...reader, query: "limit=500" });
  const csv = await api("exportLogs", { ...reader, query: "format=csv" });
  const json = await api("exportLogs", { ...reader, query: "format=json" });
  expect(csv.text.split("\r\n").length).toBeGreaterThan(10);
  expect(json.text.length).toBeGreaterThan(100);
  expect(csv.text).toMatch(/Failure/);

  // The whole database as JSON, the cipher columns aside (they hold the sealed secrets by design).
  const tables = await h.t.db.$queryRaw<{ table_name: string }[]>`
    SELECT table_name::text AS table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`;
  const dump: string[] = [];
  for (const { table_name: table } of tables) {
    const rows = await h.t.db.$queryRawUnsafe<{ row: string }[]>(
      `SELECT row_to_json(t)::text AS row FROM "${table}" t`,
    );
    for (const { row: text } of rows) {
      const row = JSON.parse(text) as Record<string, unknown>;
      for (const column of Object.keys(row)) if (/cipher$/i.test(column)) delete row[column];
      dump.push(`${table} ${JSON.stringify(row)}`);
    }
  }
  const dumpText = dump.join("\n");
  expect(dumpText).toContain("ProvisioningLog");
  expect(dumpText).toContain("AuditEntry");
  expect(dumpText).toContain("Cycle");

  const mails = sandbox.mail.messages.map((message) => message.raw).join("\n");
  expect(sandbox.mail.messages.length).toBeGreaterThan(0);
  const logs = h.logText();
  expect(logs.length).toBeGreaterThan(1_000);

  const places: Record<string, string> = {
    database: dumpText,
    logs,
    responses: responses.map((response) => response.text).join("\n"),
    csvExport: csv.text,
    jsonExport: json.text,
    mail: mails,
  };
  const secrets: Record<string, string> = {
    goodKey,
    typedWrongKey,
    revokedKey,
    graphSecret,
    ...Object.fromEntries(bearerTokens.map((token, index) => [`bearer${index}`, token])),
    // A token's signature alone identifies it; so does its payload.
    ...Object.fromEntries(bearerTokens.map((token, index) => [`bearerSig${index}`, token.split(".")[2]!])),
    ...Object.fromEntries(bearerTokens.map((token, index) => [`bearerBody${index}`, token.split(".")[1]!])),
  };
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const [name, secret] of Object.entries(secrets))
      if (text.includes(secret)) leaks.push(`${name} in ${where}`);
  }
  expect(leaks).toEqual([]);
});
