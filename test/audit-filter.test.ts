import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobWorker } from "@/lib/jobs/runner";
import { recordAudit } from "@/lib/server/audit";
import { listAudit, ZAuditQuery } from "@/lib/server/audit-log";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { provisionOnDemandAudited } from "@/lib/server/on-demand-audited";
import type { RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * The audit log's filters and object names over a real PostgreSQL, with a real on-demand run (a worker
 * against the Graph and Dialpad emulators) naming the object it provisioned.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let worker: JobWorker;
let connectionId: string;
const secretKey = crypto.randomBytes(32);

const ALICE = { objectId: TEST_ADMIN.objectId, upn: TEST_ADMIN.upn };
const BOB = { objectId: "00000000-0000-4000-8000-0000000000b0", upn: "bob.operator@contoso.example" };
/** A user provisioned before audit entries recorded their object: named through the connection's link. */
const OLD_SUBJECT = "10000000-0000-4000-8000-00000000beef";

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "audit-filter", secretKey }));
  const silent = { info() {}, warn() {}, error() {} };
  worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: silent,
    pollIntervalMs: 100,
    handlers: createJobHandlers({ db: t.db, log: silent }),
  });
  await worker.start();

  const at = async (id: string, iso: string) =>
    t.db.auditEntry.update({ where: { id }, data: { at: new Date(iso) } });
  await at(
    await recordAudit(t.db, {
      connectionId,
      activity: "Update attribute mappings or scope",
      principal: ALICE,
      changes: { "User.scope": { before: null, after: null } },
    }),
    "2026-11-01T10:00:00Z",
  );
  await at(
    await recordAudit(t.db, { connectionId, activity: "Test connection", principal: BOB }),
    "2026-11-15T10:00:00Z",
  );
  // As on-demand entries were written before this change: the object id only in `changes`.
  await at(
    await recordAudit(t.db, {
      connectionId,
      activity: "Provision on demand",
      principal: BOB,
      changes: { subjects: { before: null, after: [OLD_SUBJECT] } },
    }),
    "2026-11-20T10:00:00Z",
  );
  await t.db.objectLink.create({
    data: {
      connectionId,
      objectType: "User",
      sourceId: OLD_SUBJECT,
      targetId: "77",
      displayName: "Ola Nordmann",
    },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

async function audit(query: Record<string, unknown>) {
  return (await listAudit(t.db, connectionId, ZAuditQuery.parse(query))).items;
}

describe("audit log filters", () => {
  test("by actor: part of the UPN in any case, or the whole object id", async () => {
    expect((await audit({ actor: "BOB.operator" })).map((item) => item.activity)).toEqual([
      "Provision on demand",
      "Test connection",
    ]);
    expect((await audit({ actor: ALICE.objectId })).map((item) => item.actor.upn)).toEqual([ALICE.upn]);
  });

  test("by activity", async () => {
    const items = await audit({ activity: "Test connection" });
    expect(items.map((item) => `${item.activity} by ${item.actor.upn}`)).toEqual([
      `Test connection by ${BOB.upn}`,
    ]);
  });

  test("by date range, both ends included", async () => {
    const items = await audit({ from: "2026-11-15T10:00:00Z", to: "2026-11-20T10:00:00Z" });
    expect(items.map((item) => item.at)).toEqual(["2026-11-20T10:00:00.000Z", "2026-11-15T10:00:00.000Z"]);
  });

  test("filters combine, and page by keyset", async () => {
    expect(await audit({ actor: "bob", activity: "Update attribute mappings or scope" })).toEqual([]);
    const first = await listAudit(t.db, connectionId, ZAuditQuery.parse({ actor: "bob", limit: 1 }));
    expect(first.items.map((item) => item.activity)).toEqual(["Provision on demand"]);
    const second = await listAudit(
      t.db,
      connectionId,
      ZAuditQuery.parse({ actor: "bob", limit: 1, cursor: first.nextCursor }),
    );
    expect(second.items.map((item) => item.activity)).toEqual(["Test connection"]);
    expect(second.nextCursor).toBeNull();
  });

  test("bad filters are refused, naming the field", () => {
    const unknownActivity = ZAuditQuery.safeParse({ activity: "Delete everything" });
    expect(unknownActivity.success).toBe(false);
    expect(unknownActivity.error?.issues[0]?.path).toEqual(["activity"]);
    const backwards = ZAuditQuery.safeParse({ from: "2026-11-20T00:00:00Z", to: "2026-11-01T00:00:00Z" });
    expect(backwards.success).toBe(false);
    expect(backwards.error?.issues[0]).toMatchObject({ path: ["from"], message: "must not be after `to`" });
    expect(ZAuditQuery.safeParse({ actors: "bob" }).success).toBe(false);
  });

  test("an entry written before objects were recorded is named through the connection's link", async () => {
    const [entry] = await audit({ object: OLD_SUBJECT });
    expect(entry?.object).toEqual({
      type: "User",
      id: OLD_SUBJECT,
      displayName: "Ola Nordmann",
      userPrincipalName: null,
    });
  });
});

describe("provision on demand in the audit log", () => {
  test("names the object by the display name and UPN the run read, and is found by them", async () => {
    const result = await provisionOnDemandAudited(
      t.db,
      connectionId,
      [{ objectId: SEED_USERS.zoe.id, objectTypeName: "User" }],
      ALICE,
    );
    expect(result.status).toBe("Success");
    const expected = {
      type: "User",
      id: SEED_USERS.zoe.id,
      displayName: "Zoë Ångström",
      userPrincipalName: SEED_USERS.zoe.upn,
    };
    for (const object of ["ångström", "ZOE.ANGSTROM@contoso", SEED_USERS.zoe.id]) {
      const items = await audit({ object, activity: "Provision on demand" });
      expect(items.map((item) => item.object)).toEqual([expected]);
    }
  }, 60_000);
});
