import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobWorker } from "@/lib/jobs/runner";
import { waitForJob } from "@/lib/jobs/wait";
import { createJobHandlers } from "@/lib/server/job-handlers";
import {
  exportReconcileFindings,
  listReconcileFindings,
  requestReconcile,
  type ReconcileFindingDto,
  type ReconcileRunDto,
} from "@/lib/server/reconcile";
import type { DialpadUser } from "@/sandbox/dialpad/company";
import { addHandMadeUsers, HAND_MADE_USERS } from "@/sandbox/dialpad/by-hand";
import { PATCH_OP } from "@/sandbox/dialpad/urns";
import { SEED_USERS } from "@/sandbox/graph/seed";
import { type RunningSandbox } from "@/sandbox/main";
import type { TestDatabase } from "./database";
import { startCycleAndWaitForEnd, startEngineHarness, TEST_ADMIN } from "./engine-harness";

/**
 * The reconcile report against the Dialpad and Graph emulators, computed by a job worker on a real
 * PostgreSQL: after a cycle, Dialpad is changed behind Entra's back (users created by hand, a title
 * edited, a user deleted, one suspended, a userName taken), and the report names each of them.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
let worker: JobWorker;
const secretKey = crypto.randomBytes(32);

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "reconcile", secretKey }));
  const silent = { info() {}, warn() {}, error() {} };
  worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: silent,
    workerId: "reconcile-worker",
    concurrency: 2,
    pollIntervalMs: 50,
    handlers: createJobHandlers({ db: t.db, log: silent, cycle: { mailer: null, requestsPerSecond: 1_000 } }),
  });
  await worker.start();
  await startCycleAndWaitForEnd(t.db, connectionId);
  // The next scheduled cycle would repair what the tests break on purpose.
  await t.db.job.deleteMany({ where: { connectionId, kind: "provisioning-cycle", status: "queued" } });
}, 120_000);

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

async function reconcile(): Promise<ReconcileRunDto> {
  const queued = await requestReconcile(t.db, connectionId, TEST_ADMIN);
  const run = await t.db.reconcileRun.findUniqueOrThrow({ where: { id: queued.id } });
  const job = await waitForJob(t.db, run.jobId!, { timeoutMs: 60_000 });
  expect(job.status, String(job.lastError)).toBe("succeeded");
  const page = await listReconcileFindings(t.db, connectionId, { runId: queued.id, limit: 1 });
  return page.run!;
}

async function allFindings(
  query: Parameters<typeof listReconcileFindings>[2] extends infer Q ? Partial<Q> : never,
) {
  const items: ReconcileFindingDto[] = [];
  let cursor: string | undefined;
  do {
    const page = await listReconcileFindings(t.db, connectionId, { limit: 7, ...query, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const company = () => sandbox.dialpad.company;
const dialpadUserOf = async (sourceId: string): Promise<DialpadUser> => {
  const link = await t.db.objectLink.findUniqueOrThrow({
    where: { connectionId_objectType_sourceId: { connectionId, objectType: "User", sourceId } },
  });
  return company().getUser(link.targetId);
};
const patchByHand = (id: string, path: string, value: unknown) =>
  company().patchUser(id, { schemas: [PATCH_OP], Operations: [{ op: "replace", path, value }] });

describe("reconcile report", () => {
  test("right after a cycle, Dialpad holds nothing unmanaged and nothing drifted", async () => {
    const run = await reconcile();
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ users: {}, groups: {}, driftedUsers: 0 });
    expect(await allFindings({ category: "orphan" })).toEqual([]);
    expect(await allFindings({ category: "drifted" })).toEqual([]);
    expect(await allFindings({ category: "missing" })).toEqual([]);
    expect(run.read.dialpadUsers).toBe(company().users.size);
    // Listing Dialpad costs one request per 100 users (plus the groups' listing).
    expect(run.read.dialpadRequests).toBeLessThanOrEqual(Math.ceil(company().users.size / 100) + 2);
  });

  test("orphans, a drifted title, a deleted, a suspended user and a userName collision are each named", async () => {
    const handMade = addHandMadeUsers(company());
    expect(handMade).toHaveLength(HAND_MADE_USERS.length);
    const zoe = await dialpadUserOf(SEED_USERS.zoe.id);
    const zoeTitle = zoe.attributes.title;
    patchByHand(zoe.id, "title", "Chief Hand Editor");
    const jose = await dialpadUserOf(SEED_USERS.jose.id);
    company().deleteUser(jose.id);
    const ada = await dialpadUserOf(SEED_USERS.admin.id);
    patchByHand(ada.id, "active", false);
    // Alex's Dialpad account is renamed by hand, and a new account takes Alex's userName.
    const alex = await dialpadUserOf(SEED_USERS.duplicateA.id);
    patchByHand(alex.id, "userName", "alex.kim.old@contoso.example");
    const impostor = addHandMadeUsersNamed(SEED_USERS.duplicateA.upn);

    const run = await reconcile();
    const orphans = await allFindings({ category: "orphan", objectType: "User" });
    const byName = new Map(orphans.map((finding) => [finding.target.name?.toLowerCase(), finding]));
    expect(orphans).toHaveLength(HAND_MADE_USERS.length + 1);
    expect(byName.get("front.desk@contoso.example")).toMatchObject({
      reason: "neverLinked",
      target: { active: true },
      source: { id: null },
    });
    expect(byName.get("conference.room@contoso.example")).toMatchObject({ reason: "neverLinked" });
    expect(byName.get(SEED_USERS.unassigned.upn)).toMatchObject({
      reason: "collides",
      source: { id: SEED_USERS.unassigned.id },
      detail: expect.stringMatching(/userName equals the matching value of Entra user .*not linked/),
    });
    expect(byName.get(SEED_USERS.duplicateA.upn)).toMatchObject({
      reason: "collides",
      target: { id: impostor.id },
      source: { id: SEED_USERS.duplicateA.id },
      detail: expect.stringContaining(`linked to another Dialpad user (${alex.id})`),
    });

    const drifted = await allFindings({ category: "drifted" });
    expect(drifted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          attribute: "title",
          dialpadValue: "Chief Hand Editor",
          desiredValue: zoeTitle,
          target: expect.objectContaining({ id: zoe.id }),
          source: expect.objectContaining({ id: SEED_USERS.zoe.id }),
        }),
        expect.objectContaining({
          attribute: "userName",
          dialpadValue: "alex.kim.old@contoso.example",
          desiredValue: SEED_USERS.duplicateA.upn,
          target: expect.objectContaining({ id: alex.id }),
        }),
      ]),
    );
    expect(drifted).toHaveLength(2);
    // A suspension is its own category, not an attribute drift.
    expect(drifted.some((finding) => finding.attribute === "active")).toBe(false);

    expect(await allFindings({ category: "missing" })).toEqual([
      expect.objectContaining({ objectType: "User", target: expect.objectContaining({ id: jose.id }) }),
    ]);
    expect(await allFindings({ category: "suspendedInDialpad" })).toEqual([
      expect.objectContaining({ source: expect.objectContaining({ id: SEED_USERS.admin.id }) }),
    ]);
    expect(run.counts).toMatchObject({
      users: { orphan: 4, drifted: 2, missing: 1, suspendedInDialpad: 1 },
      driftedUsers: 2,
    });
  });

  test("filters narrow the report and the export holds exactly the filtered findings", async () => {
    const collisions = await allFindings({ reason: "collides" });
    expect(collisions.map((finding) => finding.target.name).sort()).toEqual(
      [SEED_USERS.duplicateA.upn, SEED_USERS.unassigned.upn].sort(),
    );
    expect(await allFindings({ attribute: "TITLE" })).toHaveLength(1);
    expect(await allFindings({ search: "front.desk" })).toHaveLength(1);

    const csv = await new Response(
      exportReconcileFindings(t.db, connectionId, { category: "orphan" }, "csv"),
    ).text();
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toContain('"Orphan reason"');
    expect(lines).toHaveLength(1 + 4);
    expect(csv).toContain('"front.desk@contoso.example"');
    const json = JSON.parse(
      await new Response(exportReconcileFindings(t.db, connectionId, {}, "json")).text(),
    ) as ReconcileFindingDto[];
    expect(json).toHaveLength((await allFindings({})).length);
  });

  test("a Dialpad user whose Entra user lost its link is reported as link lost", async () => {
    // Provisioned by this connection (its log names the Dialpad id), then the link was removed and the
    // Dialpad account renamed, so no matching attribute leads back to an Entra user either.
    const mo = await dialpadUserOf(SEED_USERS.mailDiffers.id);
    patchByHand(mo.id, "userName", "mo.former@contoso.example");
    await t.db.objectLink.delete({
      where: {
        connectionId_objectType_sourceId: {
          connectionId,
          objectType: "User",
          sourceId: SEED_USERS.mailDiffers.id,
        },
      },
    });
    await reconcile();
    const [lost] = await allFindings({ category: "orphan", search: "mo.former" });
    expect(lost).toMatchObject({ reason: "linkLost", target: { id: mo.id } });
  });
});

function addHandMadeUsersNamed(userName: string): DialpadUser {
  return company().createUser({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName,
    name: { givenName: "Hand", familyName: "Made" },
    active: true,
  });
}
