import crypto from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { env } from "@/lib/config/env";
import { SecretBox } from "@/lib/crypto/secrets";
import { createLogger } from "@/lib/log";
import { defaultDialpadMapping } from "@/lib/mapping";
import type { ServerContext } from "@/lib/server/context";
import { AppError } from "@/lib/server/errors";
import { runTargetSelfTest } from "@/lib/server/target-self-test";
import type { RunningSandbox } from "@/sandbox/main";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * The target self-test as the API runs it: the connection's saved tenant URL and sealed key, its saved
 * matching attributes, the shared request budget in a real PostgreSQL, real HTTPS to the sandbox
 * Dialpad emulator, and an audit entry; nothing may be left in Dialpad and the key must appear nowhere.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let context: ServerContext;
const logLines: string[] = [];
const secretKey = crypto.randomBytes(32);
const admin = TEST_ADMIN;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "target-self-test", secretKey }));
  // Match users on externalId as well, so the test shows the saved mappings decide what is probed.
  const mapping = defaultDialpadMapping();
  const externalId = mapping.users.attributeMappings.find((attribute) => attribute.target === "externalId");
  if (!externalId) throw new Error("the default mapping has no externalId");
  externalId.matchingPriority = 2;
  await t.db.connection.update({ where: { id: connectionId }, data: { mappings: mapping } });
  context = {
    db: t.db,
    settings: env(),
    box: new SecretBox(secretKey),
    isSandbox: true,
    verifyAuthorization: () => Promise.reject(new Error("not used: the service is called directly")),
    log: createLogger({
      name: "web",
      level: "trace",
      destination: new Writable({
        write(chunk: Buffer | string, _encoding, callback) {
          logLines.push(chunk.toString());
          callback();
        },
      }),
    }),
  };
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

describe("target self-test of the saved sandbox Dialpad", () => {
  test("reports every check, cleans up, and is audited", async () => {
    const requestsBefore = sandbox.dialpad.requests.length;
    const usersBefore = sandbox.dialpad.company.users.size;
    const report = await runTargetSelfTest(context, admin, connectionId, { createTemporaryUser: true });

    expect(report.target).toBe(sandbox.runtime.dialpad.tenantUrl);
    const statuses = Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
    expect(statuses).toEqual({
      "service-provider-config": "pass",
      schemas: "pass",
      "mapped-attributes": "pass",
      "filter-users:userName": "pass",
      "filter-users:externalId": "pass",
      "filter-groups:displayName": "pass",
      "filter-escaping": "pass",
      "error-404": "pass",
      "create-user": "pass",
      "filter-finds-user": "pass",
      pagination: "pass",
      "patch-op-casing": "pass",
      "patch-boolean": "pass",
      "error-409": "pass",
      "delete-user": "pass",
      // The harness lifts the emulator's rate limit, and with it the X-RateLimit-* headers.
      "rate-limit-headers": "warn",
    });
    expect(report.summary).toEqual({ pass: 15, warn: 1, fail: 0, skipped: 0, total: 16 });
    expect(report.checks.find((check) => check.id === "rate-limit-headers")?.engineAction).toMatch(
      /request budget shared by all workers/,
    );

    // One user created (and a refused duplicate), deleted again; the company is as it was.
    const traffic = sandbox.dialpad.requests.slice(requestsBefore);
    expect(traffic.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([201, 409]);
    expect(traffic.filter((r) => r.method === "DELETE").map((r) => r.status)).toEqual([204]);
    expect(sandbox.dialpad.company.users.size).toBe(usersBefore);
    expect(sandbox.dialpad.company.findUserByUserName(report.temporaryUser!.userName)).toBeUndefined();
    expect(report.temporaryUser).toMatchObject({ created: true, deleted: true });

    // Paced through the connection's shared budget, like a cycle.
    const budget = await t.db.requestBudget.findUnique({ where: { connectionId } });
    expect(Number(budget?.grantedTotal)).toBeGreaterThanOrEqual(report.requestCount);

    const audit = await t.db.auditEntry.findMany({ where: { connectionId, activity: "Target self-test" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUpn: admin.upn, result: "success" });
    expect(audit[0]?.changes).toMatchObject({
      outcome: { after: "15 passed, 1 warnings, 0 failed, 0 skipped" },
      temporaryUser: { after: `${report.temporaryUser!.userName}: created and deleted` },
    });

    const key = sandbox.runtime.dialpad.apiKey;
    expect(JSON.stringify(report)).not.toContain(key);
    expect(JSON.stringify(audit.map((entry) => entry.changes))).not.toContain(key);
    expect(logLines.join("")).toContain("target self-test finished");
    expect(logLines.join("")).not.toContain(key);
  });

  test("a saved mapping to an attribute a strict Dialpad does not declare is a warning naming it", async () => {
    // The default mapping sends officeName; this Dialpad refuses it and leaves it out of /Schemas.
    const office = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:officeName";
    sandbox.dialpad.configure({ refuseAttributes: [office], hideRefusedAttributes: true });
    try {
      const report = await runTargetSelfTest(context, admin, connectionId, { createTemporaryUser: false });
      const check = report.checks.find((candidate) => candidate.id === "mapped-attributes");
      expect(check?.status).toBe("warn");
      expect(check?.detail).toContain(
        `Dialpad does not declare ${office} (user mapping: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User has no attribute officeName); creates and updates that include it may be refused.`,
      );
      // Only that one: every other default target is declared.
      expect(check?.detail.match(/does not declare/g)).toHaveLength(1);
    } finally {
      sandbox.dialpad.configure({ refuseAttributes: [], hideRefusedAttributes: false });
    }
  });

  test("without consent only reads are sent", async () => {
    const requestsBefore = sandbox.dialpad.requests.length;
    const report = await runTargetSelfTest(context, admin, connectionId, { createTemporaryUser: false });
    const traffic = sandbox.dialpad.requests.slice(requestsBefore);
    expect(traffic.length).toBeGreaterThan(0);
    expect(traffic.every((r) => r.method === "GET")).toBe(true);
    expect(report.temporaryUser).toBeNull();
    expect(report.checks.find((check) => check.id === "create-user")?.status).toBe("skipped");
  });

  test("a tenant URL in the private network is refused before the key is sent", async () => {
    const requestsBefore = sandbox.dialpad.requests.length;
    const auditBefore = await t.db.auditEntry.count();
    await t.db.connection.update({
      where: { id: connectionId },
      data: { tenantUrl: "https://10.1.2.3/scim" },
    });
    try {
      const error = await runTargetSelfTest(context, admin, connectionId, {
        createTemporaryUser: true,
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).detail).toMatch(/points to 10\.1\.2\.3, a private address/);
      expect(sandbox.dialpad.requests.length).toBe(requestsBefore);
      expect(await t.db.auditEntry.count()).toBe(auditBefore);
    } finally {
      await t.db.connection.update({
        where: { id: connectionId },
        data: { tenantUrl: sandbox.runtime.dialpad.tenantUrl },
      });
    }
  });

  test("without a saved key it asks for the settings first", async () => {
    await t.db.connection.update({ where: { id: connectionId }, data: { secretTokenCipher: null } });
    const error = await runTargetSelfTest(context, admin, connectionId, { createTemporaryUser: true }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "not_configured", status: 409 });
  });
});
