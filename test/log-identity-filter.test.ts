import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { listLogs, ZLogQuery } from "@/lib/server/logs";
import { runOnDemand } from "@/lib/server/on-demand";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import type { RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness } from "./engine-harness";

/**
 * The provisioning logs' identity filter over entries written by a real cycle (the cycle store's
 * INSERT … SELECT) and by a real on-demand run (the ORM's insert), against the Graph and Dialpad
 * emulators and a real PostgreSQL, which folds case and accents and matches through its indexes.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
/** Zoë's mail differs from her UPN here, so a match by one is not a match by the other. */
const ZOE_MAIL = "Zoe.Angstrom-Office@Fabrikam.example";
let zoeTargetId: string;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "log-identity", secretKey }));
  sandbox.graph.directory.updateUser(SEED_USERS.zoe.id, { mail: ZOE_MAIL });
  const summary = await runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "start", dryRun: false },
    { mailer: null, requestsPerSecond: 1_000 },
  );
  expect(summary).toMatchObject({ status: "succeeded" });
  const created = await t.db.provisioningLog.findFirstOrThrow({
    where: { connectionId, sourceId: SEED_USERS.zoe.id, action: "Create", status: "Success" },
  });
  zoeTargetId = created.targetId!;
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

async function search(identity: string, limit = 200) {
  const page = await listLogs(t.db, connectionId, ZLogQuery.parse({ identity, limit }));
  return page.items;
}

/** The source objects the entries found are about. */
async function sourcesFound(identity: string): Promise<Set<string | null>> {
  return new Set((await search(identity)).map((item) => item.sourceIdentity.id));
}

describe("identity filter over a cycle's entries", () => {
  test.each([
    ["the UPN", SEED_USERS.zoe.upn],
    ["the UPN in capitals", SEED_USERS.zoe.upn.toUpperCase()],
    ["the mail", ZOE_MAIL],
    ["the mail in lower case", ZOE_MAIL.toLowerCase()],
    ["the UPN before the @", "zoe.angstrom"],
    ["the accented display name", "Zoë Ångström"],
    ["the display name without accents", "zoe angstrom"],
    ["part of the surname, in capitals, without accents", "ANGSTR"],
    ["the source object id", SEED_USERS.zoe.id],
    ["the source object id in capitals", SEED_USERS.zoe.id.toUpperCase()],
  ])("%s finds Zoë's entry and no one else's", async (_what, identity) => {
    expect(await sourcesFound(identity)).toEqual(new Set([SEED_USERS.zoe.id]));
  });

  test("the Dialpad id finds the entry of the user it was created for", async () => {
    const found = await search(zoeTargetId);
    expect(found.map((item) => item.targetIdentity.id)).toContain(zoeTargetId);
    expect(new Set(found.map((item) => item.sourceIdentity.id))).toEqual(new Set([SEED_USERS.zoe.id]));
  });

  test("another user's UPN finds that user only", async () => {
    expect(await sourcesFound(SEED_USERS.jose.upn)).toEqual(new Set([SEED_USERS.jose.id]));
  });

  test("LIKE wildcards in the search are plain characters", async () => {
    expect(await search("zoe_angstrom")).toEqual([]);
    expect(await search("zoe%angstrom")).toEqual([]);
  });

  test("the reported case: a generated user's UPN finds her cycle entry", async () => {
    const found = await search("zoe.garcia@contoso.example");
    expect(found.map((item) => `${item.action} ${item.sourceIdentity.displayName}`)).toEqual([
      "Create Zoë García",
    ]);
  });

  test("a UPN that is nobody's finds nothing", async () => {
    expect(await search("no.one@contoso.example")).toEqual([]);
  });

  test("a search shorter than three characters is refused with the reason", () => {
    const parsed = ZLogQuery.safeParse({ identity: "zo" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/at least 3 characters/);
  });
});

describe("identity filter over on-demand entries", () => {
  test("entries written on demand are found by UPN, and the filtered list pages by keyset", async () => {
    const before = await search(SEED_USERS.zoe.upn);
    for (let run = 0; run < 2; run += 1) {
      const result = await runOnDemand(t.db, box, {
        connectionId,
        subject: { objectId: SEED_USERS.zoe.id, objectTypeName: "User" },
        initiatedBy: "alice.admin@contoso.example",
        jobId: null,
      });
      expect(result.logId).not.toBeNull();
    }
    const all = await search(SEED_USERS.zoe.upn);
    expect(all.length).toBe(before.length + 2);
    expect(all.slice(0, 2).map((item) => item.initiatedBy)).toEqual([
      "alice.admin@contoso.example",
      "alice.admin@contoso.example",
    ]);

    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listLogs(
        t.db,
        connectionId,
        ZLogQuery.parse({ identity: SEED_USERS.zoe.upn, limit: 1, ...(cursor ? { cursor } : {}) }),
      );
      paged.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.map((item) => item.id));
  });
});
