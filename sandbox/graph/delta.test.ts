import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { SEED_GROUPS, SEED_USERS } from "./seed";
import { startGraphEmulator, type RunningGraphEmulator } from "./server";
import { admin, followAll, getToken, graphGet, type ODataPage } from "./testing";

describe("users/delta and groups/delta", () => {
  let emulator: RunningGraphEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startGraphEmulator();
    token = await getToken(emulator);
  });
  afterAll(() => emulator.close());
  beforeEach(async () => {
    expect((await admin(emulator, "POST", "/reset", {})).status).toBe(200);
  });

  const round = (link: string, headers: Record<string, string> = {}) =>
    followAll(emulator, link, token, headers);

  test("the initial round pages through every active user and ends with a deltaLink", async () => {
    const initial = await round("/v1.0/users/delta?$select=displayName,department,accountEnabled");
    expect(initial.pages).toBeGreaterThan(1);
    expect(initial.items.map((u) => u.id).sort()).toEqual(
      emulator.directory
        .listUsers()
        .map((u) => u.id)
        .sort(),
    );
    expect(initial.items.every((u) => !("@removed" in u))).toBe(true);
    expect(initial.deltaLink).toMatch(new RegExp(`^${emulator.url}/v1\\.0/users/delta\\?\\$deltatoken=`));
    // never-set properties are left out of delta items
    const noMail = await round("/v1.0/users/delta?$select=mail");
    expect(noMail.items.find((u) => u.id === SEED_USERS.noMail.id)).toEqual({ id: SEED_USERS.noMail.id });

    const nothing = await round(initial.deltaLink!);
    expect(nothing.items).toEqual([]);
    expect(nothing.deltaLink).toBeTruthy();
  });

  test("later rounds return only changes: updates, soft deletes (changed), hard deletes (deleted), restores", async () => {
    await admin(emulator, "PATCH", `/users/${SEED_USERS.zoe.id}`, { mobilePhone: "+44 7700 900123" });
    const { deltaLink } = await round("/v1.0/users/delta?$select=displayName,jobTitle,mobilePhone");
    // A property cleared since the last round is sent as null.
    await admin(emulator, "PATCH", `/users/${SEED_USERS.zoe.id}`, {
      jobTitle: "Head of Sales",
      mobilePhone: null,
    });
    await admin(emulator, "PATCH", `/users/${SEED_USERS.jose.id}`, { department: "Finance" }); // not selected: not tracked
    await admin(emulator, "DELETE", `/users/${SEED_USERS.admin.id}`);
    await admin(emulator, "DELETE", `/users/${SEED_USERS.unassigned.id}?hard=true`);
    const created = await admin(emulator, "POST", "/users", {
      userPrincipalName: "new.hire@contoso.example",
      displayName: "New Hire",
    });
    expect(created.status).toBe(201);

    const changes = await round(deltaLink!);
    const byId = new Map(changes.items.map((u) => [u.id as string, u]));
    expect(byId.get(SEED_USERS.zoe.id)).toEqual({
      id: SEED_USERS.zoe.id,
      displayName: "Zoë Ångström",
      jobTitle: "Head of Sales",
      mobilePhone: null,
    });
    expect(byId.has(SEED_USERS.jose.id)).toBe(false);
    expect(byId.get(SEED_USERS.admin.id)).toEqual({
      id: SEED_USERS.admin.id,
      "@removed": { reason: "changed" },
    });
    expect(byId.get(SEED_USERS.unassigned.id)).toEqual({
      id: SEED_USERS.unassigned.id,
      "@removed": { reason: "deleted" },
    });
    expect(byId.get(created.body.id as string)).toMatchObject({ displayName: "New Hire" });
    expect(changes.items).toHaveLength(4);

    await admin(emulator, "POST", `/users/${SEED_USERS.admin.id}/restore`);
    await admin(emulator, "DELETE", `/users/${SEED_USERS.admin.id}?hard=true`);
    const next = await round(changes.deltaLink!);
    expect(next.items).toEqual([{ id: SEED_USERS.admin.id, "@removed": { reason: "deleted" } }]);
  });

  test("Prefer: return=minimal sends only the changed properties", async () => {
    const { deltaLink } = await round("/v1.0/users/delta?$select=displayName,jobTitle");
    await admin(emulator, "PATCH", `/users/${SEED_USERS.zoe.id}`, { jobTitle: "CRO" });
    const minimal = await round(deltaLink!, { Prefer: "return=minimal" });
    expect(minimal.items).toEqual([{ id: SEED_USERS.zoe.id, jobTitle: "CRO" }]);
  });

  test("groups delta reports members@delta additions and removals", async () => {
    const initial = await round("/v1.0/groups/delta?$select=displayName,members");
    const support = initial.items.find((g) => g.id === SEED_GROUPS.dialpadSupport.id)!;
    expect(support["members@delta"]).toEqual([
      { "@odata.type": "#microsoft.graph.group", id: SEED_GROUPS.supportTier2.id },
    ]);

    await admin(
      emulator,
      "POST",
      `/groups/${SEED_GROUPS.dialpadUsers.id}/members/${SEED_USERS.unassigned.id}`,
    );
    await admin(emulator, "DELETE", `/groups/${SEED_GROUPS.dialpadUsers.id}/members/${SEED_USERS.jose.id}`);
    await admin(emulator, "PATCH", `/groups/${SEED_GROUPS.sales.id}`, { displayName: "Sales EMEA" });
    const changes = await round(initial.deltaLink!);
    const users = changes.items.find((g) => g.id === SEED_GROUPS.dialpadUsers.id)!;
    expect(users.displayName).toBe("Dialpad Users");
    expect(users["members@delta"]).toEqual(
      expect.arrayContaining([
        { "@odata.type": "#microsoft.graph.user", id: SEED_USERS.unassigned.id },
        { "@odata.type": "#microsoft.graph.user", id: SEED_USERS.jose.id, "@removed": { reason: "deleted" } },
      ]),
    );
    expect(changes.items.find((g) => g.id === SEED_GROUPS.sales.id)).toMatchObject({
      displayName: "Sales EMEA",
    });
    expect(changes.items).toHaveLength(2);

    // Soft-deleting a member removes it from the group's membership as seen by delta.
    await admin(emulator, "DELETE", `/users/${SEED_USERS.directAndGroup.id}`);
    const afterDelete = await round(changes.deltaLink!);
    expect(afterDelete.items.find((g) => g.id === SEED_GROUPS.dialpadUsers.id)?.["members@delta"]).toEqual([
      {
        "@odata.type": "#microsoft.graph.user",
        id: SEED_USERS.directAndGroup.id,
        "@removed": { reason: "deleted" },
      },
    ]);
  });

  test("a group delta without members in $select ignores membership changes", async () => {
    const { deltaLink } = await round("/v1.0/groups/delta?$select=displayName");
    await admin(emulator, "POST", `/groups/${SEED_GROUPS.finance.id}/members/${SEED_USERS.zoe.id}`);
    expect((await round(deltaLink!)).items).toEqual([]);
  });

  test("$deltatoken=latest starts tracking from now without data", async () => {
    const latest = await graphGet<ODataPage>(emulator, "/v1.0/users/delta?$deltatoken=latest", token);
    expect(latest.body.value).toEqual([]);
    await admin(emulator, "PATCH", `/users/${SEED_USERS.jose.id}`, { displayName: "José M. Müller" });
    const changes = await round(latest.body["@odata.deltaLink"]!);
    expect(changes.items.map((u) => u.id)).toEqual([SEED_USERS.jose.id]);
  });

  test("a deltaLink from before a reset is refused with syncStateNotFound", async () => {
    const { deltaLink } = await round("/v1.0/users/delta?$select=displayName");
    await admin(emulator, "POST", "/reset", {});
    const stale = await graphGet<{ error: { code: string } }>(emulator, deltaLink!, token);
    expect(stale.status).toBe(400);
    expect(stale.body.error.code).toBe("syncStateNotFound");
  });

  test("delta accepts only id filters and no other query options alongside a skiptoken", async () => {
    const byId = await round(
      `/v1.0/users/delta?$filter=id eq '${SEED_USERS.zoe.id}' or id eq '${SEED_USERS.jose.id}'`,
    );
    expect(byId.items.map((u) => u.id).sort()).toEqual([SEED_USERS.zoe.id, SEED_USERS.jose.id].sort());
    expect(
      (await graphGet(emulator, "/v1.0/users/delta?$filter=startswith(displayName,'a')", token)).status,
    ).toBe(400);
    expect((await graphGet(emulator, "/v1.0/users/delta?$orderby=displayName", token)).status).toBe(400);
  });

  test("an object changed while the initial round is paged comes again at its end, in its newer state", async () => {
    const first = await graphGet<ODataPage>(
      emulator,
      "/v1.0/users/delta?$select=displayName,jobTitle",
      token,
    );
    const early = first.body.value[0]!;
    emulator.directory.updateUser(String(early.id), { jobTitle: "Changed during the round" });
    const rest = await followAll(emulator, first.body["@odata.nextLink"]!, token);
    const again = rest.items.filter((item) => item.id === early.id);
    expect(again).toHaveLength(1);
    expect(again[0]!.jobTitle).toBe("Changed during the round");
    // Everything else still comes exactly once.
    const ids = [...first.body.value, ...rest.items].map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length - 1);
  });
});
