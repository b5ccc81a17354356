import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DIALPAD_SERVICE_PRINCIPAL_ID, DIALPAD_USER_ROLE_ID } from "./directory";
import { SEED_GROUPS, SEED_USERS } from "./seed";
import { startGraphEmulator, type RunningGraphEmulator } from "./server";
import { admin, followAll, getToken, graphGet, type ODataPage } from "./testing";

const ASSIGNMENTS = "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.appRoleAssignment')";
const ASSIGNMENTS_AND_USERS = `${ASSIGNMENTS} or isof('microsoft.graph.user')`;
const ASSIGNMENT_TYPE = "#microsoft.graph.appRoleAssignment";

describe("directoryObjects/delta for app role assignments", () => {
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
  const latest = async (filter = ASSIGNMENTS) => {
    const page = await graphGet<ODataPage>(emulator, `${filter}&$deltatoken=latest`, token);
    expect(page.status).toBe(200);
    return page.body;
  };
  const assign = (principalId: string) =>
    admin(emulator, "POST", "/assignments", { principalId, appRoleId: DIALPAD_USER_ROLE_ID });

  test("$deltatoken=latest has no items; assignments made since come with principal and resource", async () => {
    const start = await latest();
    expect(start.value).toEqual([]);
    expect(start["@odata.nextLink"]).toBeUndefined();
    expect(start["@odata.deltaLink"]).toMatch(
      new RegExp(`^${emulator.url}/v1\\.0/directoryObjects/delta\\?\\$deltatoken=`),
    );

    expect((await assign(SEED_USERS.unassigned.id)).status).toBe(201);
    expect((await assign(SEED_GROUPS.sales.id)).status).toBe(201);
    const changes = await round(start["@odata.deltaLink"]!);
    expect(changes.items).toHaveLength(2);
    expect(changes.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          "@odata.type": ASSIGNMENT_TYPE,
          principalId: SEED_USERS.unassigned.id,
          principalType: "User",
          principalDisplayName: "Una Unassigned",
          resourceId: DIALPAD_SERVICE_PRINCIPAL_ID,
          resourceDisplayName: "Dialpad",
          appRoleId: DIALPAD_USER_ROLE_ID,
          deletedDateTime: null,
        }),
        expect.objectContaining({
          "@odata.type": ASSIGNMENT_TYPE,
          principalId: SEED_GROUPS.sales.id,
          principalType: "Group",
          resourceId: DIALPAD_SERVICE_PRINCIPAL_ID,
        }),
      ]),
    );
    expect(changes.items.every((item) => typeof item.id === "string" && item.createdDateTime)).toBe(true);
    expect((await round(changes.deltaLink!)).items).toEqual([]);
  });

  test("an unassigned principal's assignment comes back @removed", async () => {
    const directId = emulator.directory.assignmentsOf(SEED_USERS.zoe.id)[0]!.id;
    const start = await latest();
    expect((await admin(emulator, "DELETE", `/assignments/${SEED_USERS.zoe.id}`)).status).toBe(200);
    const changes = await round(start["@odata.deltaLink"]!);
    expect(changes.items).toEqual([
      { "@odata.type": ASSIGNMENT_TYPE, id: directId, "@removed": { reason: "deleted" } },
    ]);
  });

  test("soft-deleting an assigned user removes its assignment; restoring brings it back", async () => {
    const assignmentId = emulator.directory.assignmentsOf(SEED_USERS.admin.id)[0]!.id;
    const start = await latest();
    await admin(emulator, "DELETE", `/users/${SEED_USERS.admin.id}`);
    const deleted = await round(start["@odata.deltaLink"]!);
    expect(deleted.items).toEqual([
      { "@odata.type": ASSIGNMENT_TYPE, id: assignmentId, "@removed": { reason: "deleted" } },
    ]);

    await admin(emulator, "POST", `/users/${SEED_USERS.admin.id}/restore`);
    const restored = await round(deleted.deltaLink!);
    expect(restored.items).toEqual([
      expect.objectContaining({
        "@odata.type": ASSIGNMENT_TYPE,
        id: assignmentId,
        principalId: SEED_USERS.admin.id,
      }),
    ]);
    expect(restored.items[0]).not.toHaveProperty("@removed");
  });

  test("a deleted group's assignment and a hard-deleted user's are reported once", async () => {
    const start = await latest();
    await admin(emulator, "DELETE", `/groups/${SEED_GROUPS.dialpadAdmins.id}`);
    await admin(emulator, "DELETE", `/users/${SEED_USERS.zoe.id}`);
    await admin(emulator, "DELETE", `/users/${SEED_USERS.zoe.id}?hard=true`);
    const changes = await round(start["@odata.deltaLink"]!);
    expect(changes.items.map((item) => item["@removed"])).toEqual([
      { reason: "deleted" },
      { reason: "deleted" },
    ]);
  });

  test("a deltaLink replayed gives the same items, plus what changed since", async () => {
    const start = await latest();
    await assign(SEED_USERS.unassigned.id);
    await admin(emulator, "DELETE", `/assignments/${SEED_USERS.duplicateA.id}`);
    const first = await round(start["@odata.deltaLink"]!);
    const again = await round(start["@odata.deltaLink"]!);
    expect(again.items).toEqual(first.items);
    expect(first.items).toHaveLength(2);

    await assign(SEED_GROUPS.finance.id);
    const later = await round(start["@odata.deltaLink"]!);
    expect(later.items.slice(0, 2)).toEqual(first.items);
    expect(later.items[2]).toMatchObject({ principalId: SEED_GROUPS.finance.id });
  });

  test("the initial round pages every visible assignment at Prefer: odata.maxpagesize", async () => {
    const initial = await round(ASSIGNMENTS, { Prefer: "odata.maxpagesize=25" });
    const expected = emulator.directory.listAssignments().map((a) => a.id);
    expect(initial.pages).toBe(Math.ceil(expected.length / 25));
    expect(initial.items.map((item) => item.id)).toEqual(expected);
    expect(initial.items.every((item) => item["@odata.type"] === ASSIGNMENT_TYPE)).toBe(true);
    // The seed's soft-deleted user keeps its assignment hidden.
    expect(initial.items.some((item) => item.principalId === SEED_USERS.softDeleted.id)).toBe(false);
    expect((await round(initial.deltaLink!)).items).toEqual([]);
  });

  test("with isof user too, the round carries users (default properties) and their changes", async () => {
    const initial = await round(ASSIGNMENTS_AND_USERS, { Prefer: "odata.maxpagesize=100" });
    const users = initial.items.filter((item) => item["@odata.type"] === "#microsoft.graph.user");
    expect(users.map((user) => user.id)).toEqual(emulator.directory.listUsers().map((user) => user.id));
    expect(users.find((user) => user.id === SEED_USERS.noMail.id)).not.toHaveProperty("mail");
    expect(users.find((user) => user.id === SEED_USERS.zoe.id)).not.toHaveProperty("department");
    expect(initial.items.length).toBe(users.length + emulator.directory.listAssignments().length);

    const zoeAssignment = emulator.directory.assignmentsOf(SEED_USERS.zoe.id)[0]!.id;
    await admin(emulator, "PATCH", `/users/${SEED_USERS.jose.id}`, { jobTitle: "CFO" });
    await admin(emulator, "DELETE", `/users/${SEED_USERS.zoe.id}`);
    const changes = await round(initial.deltaLink!);
    expect(changes.items).toEqual([
      { "@odata.type": ASSIGNMENT_TYPE, id: zoeAssignment, "@removed": { reason: "deleted" } },
      expect.objectContaining({ "@odata.type": "#microsoft.graph.user", id: SEED_USERS.jose.id }),
      { "@odata.type": "#microsoft.graph.user", id: SEED_USERS.zoe.id, "@removed": { reason: "changed" } },
    ]);
  });

  test("a change round pages too, and resumes where it left off", async () => {
    const start = await latest();
    const fresh = emulator.directory
      .listUsers()
      .filter((user) => !emulator.directory.assignmentsOf(user.id).length);
    for (const user of fresh.slice(0, 7)) await assign(user.id);
    const paged = await round(start["@odata.deltaLink"]!, { Prefer: "odata.maxpagesize=3" });
    expect(paged.pages).toBe(3);
    expect(paged.items.map((item) => item.principalId)).toEqual(fresh.slice(0, 7).map((user) => user.id));
  });

  test("an assignment removed while the initial round is paged comes again at its end, removed", async () => {
    const first = await graphGet<ODataPage>(emulator, ASSIGNMENTS, token, { Prefer: "odata.maxpagesize=5" });
    const early = first.body.value[0]!;
    await admin(emulator, "DELETE", `/assignments/${String(early.principalId)}`);
    const rest = await followAll(emulator, first.body["@odata.nextLink"]!, token);
    expect(rest.items.at(-1)).toEqual({
      "@odata.type": ASSIGNMENT_TYPE,
      id: early.id,
      "@removed": { reason: "deleted" },
    });
  });

  test("a token from before a reset is refused with syncStateNotFound", async () => {
    const start = await latest();
    const paging = await graphGet<ODataPage>(emulator, ASSIGNMENTS, token, {
      Prefer: "odata.maxpagesize=5",
    });
    await admin(emulator, "POST", "/reset", {});
    for (const link of [start["@odata.deltaLink"]!, paging.body["@odata.nextLink"]!]) {
      const stale = await graphGet<{ error: { code: string } }>(emulator, link, token);
      expect(stale.status).toBe(400);
      expect(stale.body.error.code).toBe("syncStateNotFound");
    }
  });

  test("a users/delta token is not a directoryObjects one", async () => {
    const users = await graphGet<ODataPage>(emulator, "/v1.0/users/delta?$deltatoken=latest", token);
    const token_ = new URL(users.body["@odata.deltaLink"]!).searchParams.get("$deltatoken")!;
    const wrong = await graphGet<{ error: { code: string } }>(
      emulator,
      `/v1.0/directoryObjects/delta?$deltatoken=${token_}`,
      token,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe("BadRequest");
  });

  test.each([
    [
      "no filter",
      "/v1.0/directoryObjects/delta",
      /needs \$filter=isof\('microsoft\.graph\.appRoleAssignment'\)/,
    ],
    [
      "a type not emulated",
      "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.group')",
      /isof\('microsoft\.graph\.group'\) is not emulated/,
    ],
    [
      "a property filter",
      `${ASSIGNMENTS} or id eq '${SEED_USERS.zoe.id}'`,
      /Unsupported filter clause 'id eq/,
    ],
    ["another query option", `${ASSIGNMENTS}&$select=id`, /'\$select' is not supported/],
  ])("%s answers 400 Request_UnsupportedQuery", async (_name, path, message) => {
    const response = await graphGet<{ error: { code: string; message: string } }>(emulator, path, token);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("Request_UnsupportedQuery");
    expect(response.body.error.message).toMatch(message);
  });

  test("an app without User.Read.All or Directory.Read.All gets 403", async () => {
    const client = { clientId: "aaaaaaaa-0000-4000-8000-0000000000a1", clientSecret: "s" };
    const narrow = await startGraphEmulator({
      seed: { users: 20 },
      clients: [{ ...client, roles: ["Group.Read.All", "Application.Read.All"] }],
    });
    try {
      const response = await graphGet<{ error: { code: string } }>(
        narrow,
        ASSIGNMENTS,
        await getToken(narrow, client),
      );
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe("Authorization_RequestDenied");
    } finally {
      await narrow.close();
    }
  });
});
