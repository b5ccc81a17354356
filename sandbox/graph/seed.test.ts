import { describe, expect, test } from "vitest";
import { DEFAULT_ACCESS_ROLE_ID, DIALPAD_ADMIN_ROLE_ID, DIALPAD_USER_ROLE_ID } from "./directory";
import { DIALPAD_OFFICES, SEED_GROUPS, SEED_USERS, createSeededDirectory, describeSeed } from "./seed";

describe("seed", () => {
  test("the same options give the same directory, another seed number a different one", () => {
    const a = createSeededDirectory({ users: 300, groups: 20, seed: 7 });
    const b = createSeededDirectory({ users: 300, groups: 20, seed: 7 });
    const c = createSeededDirectory({ users: 300, groups: 20, seed: 8 });
    const snapshot = (d: ReturnType<typeof createSeededDirectory>) =>
      JSON.stringify({
        users: d.listUsers(),
        groups: d.listGroups(),
        members: d.listGroups().map((g) => d.listMembers(g.id)),
        assignments: d.listAssignments().map(({ createdDateTime: _c, ...rest }) => rest),
      });
    expect(snapshot(a)).toBe(snapshot(b));
    expect(snapshot(a)).not.toBe(snapshot(c));
    expect(a.listUsers()).toHaveLength(299); // one well-known user is soft-deleted
    expect(a.listGroups()).toHaveLength(20);
  });

  test("defaults to about 250 users and 12 groups in contoso.example", () => {
    const d = createSeededDirectory();
    expect(d.summary()).toMatchObject({ users: 249, deletedUsers: 1, groups: 12 });
    expect(d.listUsers().every((u) => u.userPrincipalName.endsWith("@contoso.example"))).toBe(true);
  });

  test("well-known edge cases are present and behave as documented", () => {
    const d = createSeededDirectory();
    const seed = describeSeed(d);
    const user = (key: keyof typeof SEED_USERS) => d.getUser(SEED_USERS[key].id);
    expect(user("zoe")).toMatchObject({
      displayName: "Zoë Ångström",
      userPrincipalName: SEED_USERS.zoe.upn,
      officeLocation: "London",
    });
    expect(user("jose")?.displayName).toBe("José Müller");
    expect(user("noMail")?.mail).toBeNull();
    expect(user("disabled")?.accountEnabled).toBe(false);
    expect(user("duplicateA")?.displayName).toBe(user("duplicateB")?.displayName);
    expect(user("apostrophe")?.surname).toBe("O'Brien");
    expect(user("guest")).toMatchObject({
      userType: "Guest",
      userPrincipalName: "pat_fabrikam.example#EXT#@contoso.example",
    });
    expect(user("mailDiffers")?.mail).not.toBe(SEED_USERS.mailDiffers.upn);
    expect(user("softDeleted")).toBeUndefined();
    expect(d.getDeletedUser(SEED_USERS.softDeleted.id)?.deletedDateTime).toBeTruthy();

    expect(d.assignmentsOf(SEED_USERS.defaultAccessOnly.id).map((a) => a.appRoleId)).toEqual([
      DEFAULT_ACCESS_ROLE_ID,
    ]);
    expect(d.assignmentsOf(SEED_USERS.admin.id).map((a) => a.appRoleId)).toEqual([DIALPAD_ADMIN_ROLE_ID]);
    expect(d.assignmentsOf(SEED_USERS.jose.id)).toEqual([]);
    expect(d.isMember(SEED_GROUPS.dialpadUsers.id, SEED_USERS.jose.id)).toBe(true);
    expect(d.assignmentsOf(SEED_GROUPS.dialpadUsers.id).map((a) => a.appRoleId)).toEqual([
      DIALPAD_USER_ROLE_ID,
    ]);
    expect(d.isMember(SEED_GROUPS.dialpadSupport.id, SEED_GROUPS.supportTier2.id)).toBe(true);
    expect(d.assignmentsOf(SEED_GROUPS.supportTier2.id)).toEqual([]);

    const inScope = new Set(seed.inScopeUserIds);
    for (const key of [
      "zoe",
      "jose",
      "noMail",
      "disabled",
      "admin",
      "duplicateA",
      "duplicateB",
      "directAndGroup",
      "unknownOffice",
      "apostrophe",
      "guest",
      "mailDiffers",
    ] as const) {
      expect(inScope.has(SEED_USERS[key].id), key).toBe(true);
    }
    for (const key of [
      "defaultAccessOnly",
      "nestedOnly",
      "unassigned",
      "softDeleted",
      "defaultAccessGroupMember",
    ] as const) {
      expect(inScope.has(SEED_USERS[key].id), key).toBe(false);
    }
    expect(seed.outOfScopeUserIds).toContain(SEED_USERS.unassigned.id);
  });

  test("generated users cover Dialpad offices, offices Dialpad lacks, missing mail and disabled accounts", () => {
    const users = createSeededDirectory().listUsers();
    const offices = new Set(users.map((u) => u.officeLocation));
    for (const office of DIALPAD_OFFICES) expect(offices.has(office)).toBe(true);
    expect(offices.has("Berlin")).toBe(true);
    expect(users.filter((u) => u.mail === null).length).toBeGreaterThan(1);
    expect(users.filter((u) => !u.accountEnabled).length).toBeGreaterThan(1);
    expect(
      users.some(
        (u) => /[^ -~]/.test(u.displayName ?? "") && !Object.values(SEED_USERS).some((w) => w.id === u.id),
      ),
    ).toBe(true);
  });

  test("seeds 100,000 users and 2,000 groups", { timeout: 120_000 }, () => {
    const started = performance.now();
    const d = createSeededDirectory({ users: 100_000, groups: 2_000 });
    const elapsed = performance.now() - started;
    expect(d.summary()).toMatchObject({ users: 99_999, groups: 2_000 });
    // Informational: on a normal machine this is ~1-2 s; not asserted because CI load varies.
    console.info(`seeded 100k users + 2k groups in ${Math.round(elapsed)} ms`);
  });
});
