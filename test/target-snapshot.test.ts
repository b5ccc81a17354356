/**
 * Target snapshots against the Dialpad emulator over HTTPS, stored in a real PostgreSQL: what the engine
 * gets when it matches a unit of objects against one listing instead of a filter query per object.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import { PrismaClient } from "@/lib/db/client";
import { createScimClient, type ScimClient, type ScimResourceInput } from "@/lib/scim";
import { readTargetSnapshot } from "@/lib/scim/snapshot-reader";
import {
  openTargetIndex,
  pruneTargetSnapshots,
  takeTargetSnapshot,
} from "@/lib/server/target-snapshot-store";
import type { MatchingCandidate, TargetIndex } from "@/lib/sync/target-index";
import {
  SANDBOX_DIALPAD_KEY,
  startDialpadEmulator,
  type RunningDialpadEmulator,
} from "@/sandbox/dialpad/server";
import { groupBody, userBody } from "@/sandbox/dialpad/testing";
import { ensureSandboxTls } from "@/sandbox/tls";
import { createTestDatabase, type TestDatabase } from "./database";

const USERS = 1_250;
const GROUPS = 30;
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

let dialpad: RunningDialpadEmulator;
let t: TestDatabase;
let scim: ScimClient;
let connectionId: string;
const userIds: string[] = [];
const groupIds: string[] = [];

/** A user as the engine would POST it. */
const newUser = (userName: string, extra: Record<string, unknown> = {}) =>
  userBody(userName, extra) as ScimResourceInput;

// Mixed case on purpose: userName and e-mails match in any case, externalId only exactly.
const userNameOf = (i: number) => `Zoë.User${i}@Contoso.example`;
const externalIdOf = (i: number) => `EXT-${i}-Ab`;
const workEmailOf = (i: number) => `Zoe.Work${i}@Contoso.example`;

beforeAll(async () => {
  const tls = await ensureSandboxTls(inject("sandboxTlsDir"));
  dialpad = await startDialpadEmulator({ tls: { cert: tls.cert, key: tls.key }, rateLimit: null });
  for (let i = 0; i < USERS; i++) {
    const user = dialpad.company.createUser(
      userBody(userNameOf(i), {
        externalId: externalIdOf(i),
        emails: [{ primary: true, type: "work", value: workEmailOf(i) }],
        ...(i % 10 === 0 ? { active: false } : {}),
      }),
    );
    userIds.push(user.id);
  }
  for (let i = 0; i < GROUPS; i++) {
    const members = userIds.slice(i * 40, i * 40 + 40).map((value) => ({ value }));
    groupIds.push(
      dialpad.company.createGroup(groupBody(`Team ${i} Sales`, { externalId: `Grp-${i}`, members })).id,
    );
  }
  t = await createTestDatabase();
  connectionId = (await t.db.connection.create({ data: { name: "snapshot test" } })).id;
  scim = createScimClient({
    baseUrl: `${dialpad.url}/scim`,
    token: SANDBOX_DIALPAD_KEY,
    retryPolicy: { baseDelayMs: 5, maxDelayMs: 20 },
  });
});

afterAll(async () => {
  await t?.drop();
  await dialpad?.close();
});

afterEach(() => {
  dialpad.configure({ listOrder: "created", refuseUnfilteredLists: false, burst5xx: 0 });
});

/** The SCIM requests the emulator answered since `mark` (its own request log, not the client's). */
const requestsSince = (mark: number) => dialpad.requests.slice(mark);

async function lookupAll(index: TargetIndex, candidates: MatchingCandidate[][]) {
  const results = [];
  for (let offset = 0; offset < candidates.length; offset += 100)
    results.push(...(await index.lookup(candidates.slice(offset, offset + 100))));
  return results;
}

describe("a snapshot of 1,250 users and 30 groups", () => {
  let users: TargetIndex;
  let groups: TargetIndex;

  beforeAll(async () => {
    const mark = dialpad.requests.length;
    // 500 asked, Dialpad's cap of 100 returned: the reader advances by what came back.
    const taken = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
      pageSize: 500,
    });
    expect(taken.verdict).toEqual({
      reliable: true,
      totalResults: USERS,
      distinctIds: USERS,
      pages: 13,
      requests: 13,
    });
    const listed = requestsSince(mark);
    expect(listed).toHaveLength(Math.ceil(USERS / 100));
    expect(listed.map((request) => request.query.startIndex)).toEqual(
      Array.from({ length: 13 }, (_, page) => String(page * 100 + 1)),
    );
    expect(listed.every((request) => request.query.count === "500" && request.status === 200)).toBe(true);
    users = taken.index as TargetIndex;

    const groupMark = dialpad.requests.length;
    const takenGroups = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "Group",
    });
    expect(takenGroups.verdict).toMatchObject({ reliable: true, totalResults: GROUPS, requests: 1 });
    expect(requestsSince(groupMark).map((request) => request.query)).toEqual([
      { excludedAttributes: "members", startIndex: "1", count: "100" },
    ]);
    groups = takenGroups.index as TargetIndex;
  });

  test("the snapshot row records what was read", async () => {
    const row = await t.db.targetSnapshot.findUniqueOrThrow({ where: { id: users.snapshotId } });
    expect(row).toMatchObject({
      status: "ready",
      resourceType: "User",
      totalResults: USERS,
      entryCount: USERS,
      pageCount: 13,
      requestCount: 13,
      reason: null,
    });
    expect(await t.db.targetSnapshotEntry.count({ where: { snapshotId: users.snapshotId } })).toBe(USERS);
    expect(
      await t.db.targetSnapshotEntry.count({ where: { snapshotId: users.snapshotId, active: false } }),
    ).toBe(USERS / 10);
  });

  test("every user is found by userName and work e-mail in another case, and by its exact externalId and id", async () => {
    const byUserName = await lookupAll(
      users,
      userIds.map((_, i) => [{ targetAttribute: "userName", value: userNameOf(i).toUpperCase() }]),
    );
    const byEmail = await lookupAll(
      users,
      userIds.map((_, i) => [
        { targetAttribute: 'emails[type eq "work"].value', value: workEmailOf(i).toLowerCase() },
      ]),
    );
    const byExternalId = await lookupAll(
      users,
      userIds.map((_, i) => [{ targetAttribute: "externalId", value: externalIdOf(i) }]),
    );
    // What a linked object reads instead of a GET by id.
    const byId = await lookupAll(
      users,
      userIds.map((id) => [{ targetAttribute: "id", value: id }]),
    );
    for (const [results, attribute] of [
      [byUserName, "userName"],
      [byEmail, 'emails[type eq "work"].value'],
      [byExternalId, "externalId"],
      [byId, "id"],
    ] as const) {
      expect(
        results.map((result) => (result.status === "found" ? result.resource.id : result.status)),
      ).toEqual(userIds);
      expect(results[7]).toMatchObject({ matchedBy: expect.stringContaining(attribute) });
    }
    const found = byUserName[3];
    expect(found?.status === "found" && found.resource).toMatchObject({
      id: userIds[3],
      userName: userNameOf(3),
      externalId: externalIdOf(3),
      active: true,
    });
    expect(found?.status === "found" && "groups" in found.resource).toBe(false);
    expect(byUserName[10]?.status === "found" && byUserName[10].resource.active).toBe(false);
  });

  test("externalId is case-exact: the same value in another case is absent", async () => {
    const results = await users.lookup([
      [{ targetAttribute: "externalId", value: externalIdOf(5).toLowerCase() }],
      [{ targetAttribute: "externalId", value: externalIdOf(5).toUpperCase() }],
      [{ targetAttribute: "userName", value: "nobody@contoso.example" }],
    ]);
    expect(results).toEqual([
      { status: "absent", tried: [`externalId eq "${externalIdOf(5).toLowerCase()}"`] },
      { status: "absent", tried: [`externalId eq "${externalIdOf(5).toUpperCase()}"`] },
      { status: "absent", tried: ['userName eq "nobody@contoso.example"'] },
    ]);
  });

  test("every group is found by displayName in another case and by externalId, without its members", async () => {
    const byName = await groups.lookup(
      groupIds.map((_, i) => [{ targetAttribute: "displayName", value: `TEAM ${i} sales` }]),
    );
    const byExternalId = await groups.lookup(
      groupIds.map((_, i) => [{ targetAttribute: "externalId", value: `Grp-${i}` }]),
    );
    expect(byName.map((result) => (result.status === "found" ? result.resource.id : result.status))).toEqual(
      groupIds,
    );
    expect(
      byExternalId.map((result) => (result.status === "found" ? result.resource.id : result.status)),
    ).toEqual(groupIds);
    expect(byName[0]?.status === "found" && byName[0].resource).toEqual(
      expect.not.objectContaining({ members: expect.anything() }),
    );
    expect((await groups.lookup([[{ targetAttribute: "externalId", value: "grp-1" }]]))[0]?.status).toBe(
      "absent",
    );
  });

  test("a unit of 100 users costs one SQL query", async () => {
    const counting = new PrismaClient({
      adapter: new PrismaPg({ connectionString: t.url }),
      log: [{ emit: "event", level: "query" }],
    });
    const queries: string[] = [];
    counting.$on("query", (event) => queries.push(event.query));
    try {
      const index = await openTargetIndex(counting, { snapshotId: users.snapshotId });
      queries.length = 0;
      const unit = userIds.slice(200, 300).map((_, i) => [
        { targetAttribute: "userName", value: `missing${i}@contoso.example` },
        { targetAttribute: "externalId", value: externalIdOf(200 + i) },
      ]);
      const results = await (index as TargetIndex).lookup(unit);
      expect(queries).toHaveLength(1);
      expect(
        results.map((result) => (result.status === "found" ? result.resource.id : result.status)),
      ).toEqual(userIds.slice(200, 300));
    } finally {
      await counting.$disconnect();
    }
  });

  test("a unit whose matching attribute the snapshot does not index is told to use filter queries", async () => {
    const employeeNumber = `${ENTERPRISE}:employeeNumber`;
    const results = await users.lookup([
      [{ targetAttribute: employeeNumber, value: "1" }],
      [
        { targetAttribute: "userName", value: userNameOf(1) },
        { targetAttribute: employeeNumber, value: "1" },
      ],
      [
        { targetAttribute: "userName", value: "nobody@contoso.example" },
        { targetAttribute: employeeNumber, value: "1" },
        { targetAttribute: "externalId", value: externalIdOf(2) },
      ],
      [],
    ]);
    expect(results.map((result) => result.status)).toEqual(["unindexed", "found", "unindexed", "absent"]);
    expect(results[2]).toEqual({ status: "unindexed", targetAttribute: employeeNumber });
  });
});

describe("matching rules", () => {
  test("two users sharing a work e-mail are ambiguous (DuplicateTargetEntries); precedence decides first", async () => {
    const first = await scim.createUser(
      newUser("twin.one@contoso.example", { emails: [{ type: "work", value: "Shared@Contoso.example" }] }),
    );
    const second = await scim.createUser(
      newUser("twin.two@contoso.example", { emails: [{ type: "work", value: "shared@contoso.example" }] }),
    );
    const { index, snapshotId } = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
    });
    try {
      const results = await (index as TargetIndex).lookup([
        [
          { targetAttribute: "userName", value: "nobody@contoso.example" },
          { targetAttribute: 'emails[type eq "work"].value', value: "SHARED@contoso.example" },
        ],
        [
          { targetAttribute: "userName", value: "Twin.Two@Contoso.example" },
          { targetAttribute: 'emails[type eq "work"].value', value: "shared@contoso.example" },
        ],
      ]);
      expect(results[0]).toEqual({
        status: "ambiguous",
        matchedBy: 'emails[type eq "work"].value eq "SHARED@contoso.example"',
        targetIds: [first.id, second.id].sort(),
      });
      expect(results[1]).toMatchObject({ status: "found", resource: { id: second.id } });
    } finally {
      await scim.deleteUser(first.id);
      await scim.deleteUser(second.id);
      await pruneTargetSnapshots(t.db, connectionId);
      expect(await t.db.targetSnapshotKey.count({ where: { snapshotId } })).toBe(0);
    }
  });

  test("a user created during the cycle is recorded, so a second object with its userName matches it", async () => {
    const { index } = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
    });
    const users = index as TargetIndex;
    const candidate = [{ targetAttribute: "userName", value: "New.Hire@Contoso.example" }];
    expect((await users.lookup([candidate]))[0]?.status).toBe("absent");
    const created = await scim.createUser(newUser("new.hire@contoso.example", { externalId: "hire-1" }));
    try {
      await users.recordCreated(created);
      const [again] = await users.lookup([candidate]);
      expect(again).toMatchObject({ status: "found", resource: { id: created.id, externalId: "hire-1" } });
    } finally {
      await scim.deleteUser(created.id);
    }
  });

  test("targetIdsMissing names the links whose Dialpad user was deleted, in the order given", async () => {
    const doomed = await Promise.all(
      ["gone.a", "gone.b", "gone.c"].map((name) => scim.createUser(newUser(`${name}@contoso.example`))),
    );
    for (const user of doomed) await scim.deleteUser(user.id);
    const { index } = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
    });
    const linked = [
      userIds[0],
      doomed[1]?.id,
      userIds[600],
      doomed[0]?.id,
      "5199999999999999",
      doomed[2]?.id,
    ];
    expect(await (index as TargetIndex).targetIdsMissing(linked as string[])).toEqual([
      doomed[1]?.id,
      doomed[0]?.id,
      "5199999999999999",
      doomed[2]?.id,
    ]);
    expect(await (index as TargetIndex).targetIdsMissing([])).toEqual([]);
  });
});

describe("listings that cannot be trusted", () => {
  test("users created through the API between pages change totalResults: unreliable, entries dropped", async () => {
    const created: string[] = [];
    const cycle = await t.db.cycle.create({ data: { connectionId, type: "initial", trigger: "test" } });
    const taken = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: cycle.id,
      resourceType: "User",
      onProgress: async ({ resourcesRead }) => {
        if (resourcesRead === 200)
          created.push((await scim.createUser(newUser("between.pages@contoso.example"))).id);
      },
    });
    try {
      expect(taken.index).toBeNull();
      // Page 3 is fetched while page 2 is stored, so it may or may not have seen the new user.
      expect(taken.verdict).toMatchObject({ reliable: false, reason: "TotalChanged" });
      expect(taken.verdict.pages).toBeLessThanOrEqual(3);
      expect(taken.verdict.reliable || taken.verdict.detail).toMatch(/1250 on the first page and 1251/);
      const row = await t.db.targetSnapshot.findUniqueOrThrow({ where: { id: taken.snapshotId } });
      expect(row).toMatchObject({ status: "unreliable", reason: "TotalChanged", cycleId: cycle.id });
      expect(await t.db.targetSnapshotEntry.count({ where: { snapshotId: taken.snapshotId } })).toBe(0);
      expect(await openTargetIndex(t.db, { cycleId: cycle.id, resourceType: "User" })).toBeNull();
    } finally {
      for (const id of created) await scim.deleteUser(id);
    }
  });

  test("an update moving a user in a last-modified order skips another: distinct ids ≠ totalResults", async () => {
    dialpad.configure({ listOrder: "lastModified" });
    const verdict = await readTargetSnapshot(scim, "User", {
      onPage: async (page) => {
        // A user of the first page changes, so it moves to the end and everyone after it moves up one.
        if (page.startIndex === 1)
          await scim.patchUser(userIds[5] as string, [{ op: "replace", path: "title", value: "Lead" }]);
      },
    });
    expect(verdict).toMatchObject({
      reliable: false,
      reason: "CountMismatch",
      totalResults: USERS,
      distinctIds: USERS - 1,
    });
  });

  test("a target refusing unfiltered listings (400 tooMany) is unreliable after one request", async () => {
    dialpad.configure({ refuseUnfilteredLists: true });
    const mark = dialpad.requests.length;
    const taken = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "Group",
    });
    expect(taken.index).toBeNull();
    expect(taken.verdict).toMatchObject({ reliable: false, reason: "ListingRefused", requests: 1 });
    expect(taken.verdict.reliable || taken.verdict.detail).toMatch(/HTTP 400.*use a filter/);
    expect(requestsSince(mark)).toHaveLength(1);
    expect(await t.db.targetSnapshot.findUniqueOrThrow({ where: { id: taken.snapshotId } })).toMatchObject({
      status: "unreliable",
      reason: "ListingRefused",
    });
  });

  test("listing turned off by a setting sends no request", async () => {
    const mark = dialpad.requests.length;
    const taken = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
      listingDisabled: true,
    });
    expect(taken.verdict).toMatchObject({ reliable: false, reason: "ListingDisabled", requests: 0 });
    expect(requestsSince(mark)).toHaveLength(0);
  });

  test("a 503 burst during the listing is retried for that page; the snapshot is still complete", async () => {
    const mark = dialpad.requests.length;
    const taken = await takeTargetSnapshot(t.db, scim, {
      connectionId,
      cycleId: null,
      resourceType: "User",
      onProgress: async ({ resourcesRead }) => {
        if (resourcesRead === 500) dialpad.configure({ burst5xx: 2 });
      },
    });
    expect(taken.verdict).toMatchObject({
      reliable: true,
      totalResults: USERS,
      distinctIds: USERS,
      pages: 13,
    });
    const answered = requestsSince(mark).map((request) => request.status);
    expect(answered.filter((status) => status === 503)).toHaveLength(2);
    expect(answered).toHaveLength(15);
  });
});
