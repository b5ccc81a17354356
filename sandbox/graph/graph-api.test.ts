import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_ACCESS_ROLE_ID, DIALPAD_ADMIN_ROLE_ID, DIALPAD_USER_ROLE_ID } from "./directory";
import { SEED_GROUPS, SEED_USERS } from "./seed";
import {
  DIALPAD_SERVICE_PRINCIPAL_ID,
  SANDBOX_GRAPH_CLIENT,
  startGraphEmulator,
  type RunningGraphEmulator,
} from "./server";
import { followAll, getToken, graphGet, type ODataPage } from "./testing";

type GraphErrorBody = { error: { code: string; message: string; innerError: Record<string, string> } };

describe("Graph v1.0 read API", () => {
  let emulator: RunningGraphEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startGraphEmulator();
    token = await getToken(emulator);
  });
  afterAll(() => emulator.close());

  test("401 InvalidAuthenticationToken without a token, with garbage, and with an expired token", async () => {
    const none = await graphGet<GraphErrorBody>(emulator, "/v1.0/users", null, {
      "client-request-id": "abc-123",
    });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({
      code: "InvalidAuthenticationToken",
      message: "Access token is empty.",
    });
    expect(none.body.error.innerError).toMatchObject({ "client-request-id": "abc-123" });
    expect(none.body.error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");

    const garbage = await graphGet<GraphErrorBody>(emulator, "/v1.0/users", "not-a-jwt");
    expect(garbage.status).toBe(401);

    const [header, payload] = token.split(".");
    const tampered = `${header}.${payload}.${"A".repeat(342)}`;
    expect((await graphGet(emulator, "/v1.0/users", tampered)).status).toBe(401);
  });

  test("pages through every user with nextLink and opaque $skiptoken", async () => {
    const { items, pages } = await followAll(
      emulator,
      "/v1.0/users?$top=40&$select=id,userPrincipalName",
      token,
    );
    const expected = emulator.directory.listUsers().map((u) => u.id);
    expect(items.map((u) => u.id)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 40));
    const first = await graphGet<ODataPage>(emulator, "/v1.0/users", token);
    expect(first.body.value).toHaveLength(100); // Graph's default page size
    const next = first.body["@odata.nextLink"]!;
    expect(next.startsWith(`${emulator.url}/v1.0/users?`)).toBe(true);
    expect(next).toContain("$skiptoken=");
  });

  test("returns Graph's default user properties unless $select asks for more", async () => {
    const plain = await graphGet(emulator, `/v1.0/users/${SEED_USERS.zoe.id}`, token);
    expect(plain.body).not.toHaveProperty("department");
    expect(plain.body).not.toHaveProperty("accountEnabled");
    expect(plain.body).toMatchObject({ displayName: "Zoë Ångström", businessPhones: [expect.any(String)] });

    const selected = await graphGet(
      emulator,
      `/v1.0/users/${SEED_USERS.zoe.id}?$select=department,accountEnabled,officeLocation`,
      token,
    );
    expect(Object.keys(selected.body).sort()).toEqual([
      "@odata.context",
      "accountEnabled",
      "department",
      "id",
      "officeLocation",
    ]);
    expect(selected.body).toMatchObject({
      department: "Sales",
      accountEnabled: true,
      officeLocation: "London",
    });
  });

  test("resolves users by userPrincipalName, including a guest UPN with #EXT#", async () => {
    const byUpn = await graphGet(
      emulator,
      `/v1.0/users/${encodeURIComponent(SEED_USERS.guest.upn)}?$select=userType`,
      token,
    );
    expect(byUpn.body).toMatchObject({ id: SEED_USERS.guest.id, userType: "Guest" });
  });

  test("$filter startswith and eq, with an escaped apostrophe", async () => {
    const starts = await graphGet<ODataPage>(
      emulator,
      "/v1.0/users?$filter=startswith(displayName,'alex k')&$select=displayName",
      token,
    );
    expect(starts.body.value.map((u) => u.id).sort()).toEqual([
      SEED_USERS.duplicateA.id,
      SEED_USERS.duplicateB.id,
    ]);
    const quoted = await graphGet<ODataPage>(
      emulator,
      `/v1.0/users?$filter=${encodeURIComponent("surname eq 'O''Brien'")}`,
      token,
    );
    expect(quoted.body.value.map((u) => u.id)).toContain(SEED_USERS.apostrophe.id);
    const disabled = await graphGet<ODataPage>(
      emulator,
      "/v1.0/users?$filter=accountEnabled eq false&$select=accountEnabled&$top=999",
      token,
    );
    expect(disabled.body.value.length).toBeGreaterThan(0);
    expect(disabled.body.value.every((u) => u.accountEnabled === false)).toBe(true);
    const unsupported = await graphGet<GraphErrorBody>(
      emulator,
      "/v1.0/users?$filter=endswith(mail,'contoso.example')",
      token,
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error.code).toBe("Request_UnsupportedQuery");
  });

  test("$search and $count need ConsistencyLevel: eventual", async () => {
    const without = await graphGet<GraphErrorBody>(emulator, '/v1.0/users?$search="displayName:alex"', token);
    expect(without.status).toBe(400);
    expect(without.body.error.message).toContain("ConsistencyLevel: eventual");
    const withHeader = await graphGet<ODataPage>(
      emulator,
      '/v1.0/users?$search="displayName:alex"&$count=true',
      token,
      { ConsistencyLevel: "eventual" },
    );
    expect(withHeader.status).toBe(200);
    expect(withHeader.body["@odata.count"]).toBe(withHeader.body.value.length);
    expect(withHeader.body.value.map((u) => u.id)).toEqual(
      expect.arrayContaining([SEED_USERS.duplicateA.id, SEED_USERS.duplicateB.id]),
    );
    expect((await graphGet(emulator, "/v1.0/users?$count=true", token)).status).toBe(400);
    const count = await graphGet(emulator, "/v1.0/users/$count", token, { ConsistencyLevel: "eventual" });
    expect(count.body).toBe(String(emulator.directory.listUsers().length));
  });

  test("refuses bad and unsupported query options with 400", async () => {
    const top = await graphGet<GraphErrorBody>(emulator, "/v1.0/users?$top=1000", token);
    expect(top.status).toBe(400);
    expect(top.body.error.message).toBe(
      "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    expect((await graphGet(emulator, "/v1.0/users?$orderby=displayName", token)).status).toBe(400);
    expect((await graphGet(emulator, "/v1.0/users?$skip=5", token)).status).toBe(400);
    expect((await graphGet(emulator, "/v1.0/users?$frobnicate=1", token)).status).toBe(400);
    const select = await graphGet<GraphErrorBody>(
      emulator,
      "/v1.0/users?$select=displayName,favouriteColour",
      token,
    );
    expect(select.status).toBe(400);
    expect(select.body.error.message).toContain("favouriteColour");
    const segment = await graphGet<GraphErrorBody>(emulator, "/v1.0/contacts", token);
    expect(segment.body.error).toMatchObject({
      code: "BadRequest",
      message: "Resource not found for the segment 'contacts'.",
    });
  });

  test("a $select of a property the type does not have is 400 like Graph, on lists, one object and delta", async () => {
    const message =
      "Parsing OData Select and Expand failed: Could not find a property named 'jobTitel' on type 'microsoft.graph.user'.";
    for (const path of [
      "/v1.0/users?$select=id,jobTitel",
      `/v1.0/users/${SEED_USERS.zoe.id}?$select=jobTitel`,
      "/v1.0/users/delta?$select=displayName,jobTitel",
    ]) {
      const response = await graphGet<GraphErrorBody>(emulator, path, token);
      expect(response.status, path).toBe(400);
      expect(response.body.error, path).toMatchObject({ code: "BadRequest", message });
    }
    const groups = await graphGet<GraphErrorBody>(emulator, "/v1.0/groups?$select=displayNam", token);
    expect(groups.body.error.message).toContain("'displayNam' on type 'microsoft.graph.group'");
    // The correctly spelled property is served, in Graph's canonical casing.
    const fixed = await graphGet<{ jobTitle?: string }>(
      emulator,
      `/v1.0/users/${SEED_USERS.zoe.id}?$select=JOBTITLE`,
      token,
    );
    expect(fixed.status).toBe(200);
    expect(Object.keys(fixed.body)).toContain("jobTitle");
  });

  test("unknown ids answer 404 Request_ResourceNotFound in Graph's error shape", async () => {
    const missing = "00000000-1111-4222-8333-444444444444";
    for (const path of [
      `/v1.0/users/${missing}`,
      `/v1.0/groups/${missing}`,
      `/v1.0/groups/${missing}/members`,
      `/v1.0/servicePrincipals/${missing}`,
    ]) {
      const response = await graphGet<GraphErrorBody>(emulator, path, token);
      expect(response.status, path).toBe(404);
      expect(response.body.error.code).toBe("Request_ResourceNotFound");
      expect(response.body.error.message).toBe(
        `Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`,
      );
      expect(response.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    }
    // A soft-deleted user is gone from /users but listed in deleted items.
    expect((await graphGet(emulator, `/v1.0/users/${SEED_USERS.softDeleted.id}`, token)).status).toBe(404);
    const deleted = await graphGet<ODataPage>(
      emulator,
      "/v1.0/directory/deletedItems/microsoft.graph.user",
      token,
    );
    expect(deleted.body.value.map((u) => u.id)).toContain(SEED_USERS.softDeleted.id);
  });

  test("group members are direct only, typed with @odata.type", async () => {
    const support = await graphGet<ODataPage>(
      emulator,
      `/v1.0/groups/${SEED_GROUPS.dialpadSupport.id}/members`,
      token,
    );
    expect(support.body.value).toEqual([
      expect.objectContaining({ "@odata.type": "#microsoft.graph.group", id: SEED_GROUPS.supportTier2.id }),
    ]);
    const users = await followAll(
      emulator,
      `/v1.0/groups/${SEED_GROUPS.dialpadUsers.id}/members?$select=id,displayName&$top=10`,
      token,
    );
    expect(users.items.every((m) => m["@odata.type"] === "#microsoft.graph.user")).toBe(true);
    expect(users.items.map((m) => m.id)).toContain(SEED_USERS.jose.id);
    expect(users.items.map((m) => m.id)).not.toContain(SEED_USERS.nestedOnly.id);
  });

  test("the Dialpad service principal lists its app roles and every assignment, Default Access included", async () => {
    const sp = await graphGet<{ appRoles: { id: string; value: string }[] }>(
      emulator,
      `/v1.0/servicePrincipals/${DIALPAD_SERVICE_PRINCIPAL_ID}`,
      token,
    );
    expect(sp.body.appRoles.map((r) => [r.value, r.id]).sort()).toEqual([
      ["Admin", DIALPAD_ADMIN_ROLE_ID],
      ["User", DIALPAD_USER_ROLE_ID],
    ]);
    const byAppId = await graphGet<ODataPage>(
      emulator,
      `/v1.0/servicePrincipals?$filter=appId eq '${emulator.directory.servicePrincipal.appId}'`,
      token,
    );
    expect(byAppId.body.value.map((s) => s.id)).toEqual([DIALPAD_SERVICE_PRINCIPAL_ID]);

    const { items } = await followAll(
      emulator,
      `/v1.0/servicePrincipals/${DIALPAD_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo?$top=50`,
      token,
    );
    expect(items.length).toBe(emulator.directory.listAssignments().length);
    const byPrincipal = (id: string) => items.filter((a) => a.principalId === id);
    expect(byPrincipal(SEED_USERS.defaultAccessOnly.id)).toEqual([
      expect.objectContaining({
        appRoleId: DEFAULT_ACCESS_ROLE_ID,
        principalType: "User",
        principalDisplayName: "Dean Default",
        resourceId: DIALPAD_SERVICE_PRINCIPAL_ID,
        resourceDisplayName: "Dialpad",
      }),
    ]);
    expect(byPrincipal(SEED_GROUPS.dialpadUsers.id)).toEqual([
      expect.objectContaining({ principalType: "Group", appRoleId: DIALPAD_USER_ROLE_ID }),
    ]);
    expect(byPrincipal(SEED_USERS.softDeleted.id)).toEqual([]); // hidden while in deleted items
    const mine = await graphGet<ODataPage>(
      emulator,
      `/v1.0/users/${SEED_USERS.admin.id}/appRoleAssignments`,
      token,
    );
    expect(mine.body.value).toEqual([
      expect.objectContaining({ appRoleId: DIALPAD_ADMIN_ROLE_ID, resourceId: DIALPAD_SERVICE_PRINCIPAL_ID }),
    ]);
    // As Graph documents: a user's list also holds the assignments of groups the user is a direct
    // member of — José is in "Dialpad Users" — but not of groups nested further (Nina).
    const viaGroup = await graphGet<ODataPage>(
      emulator,
      `/v1.0/users/${SEED_USERS.jose.id}/appRoleAssignments?$filter=${encodeURIComponent(`resourceId eq ${DIALPAD_SERVICE_PRINCIPAL_ID}`)}`,
      token,
    );
    expect(viaGroup.body.value).toEqual([
      expect.objectContaining({ principalType: "Group", principalId: SEED_GROUPS.dialpadUsers.id }),
    ]);
    const quoted = await graphGet<ODataPage>(
      emulator,
      `/v1.0/users/${SEED_USERS.jose.id}/appRoleAssignments?$filter=${encodeURIComponent(`resourceId eq '${DIALPAD_SERVICE_PRINCIPAL_ID}'`)}`,
      token,
    );
    expect(quoted.status).toBe(400); // Edm.Guid compared with a string, as Graph refuses it
    const nested = await graphGet<ODataPage>(
      emulator,
      `/v1.0/users/${SEED_USERS.nestedOnly.id}/appRoleAssignments`,
      token,
    );
    expect(nested.body.value).toEqual([]);
  });

  test("records requests in a bounded log", async () => {
    await graphGet(emulator, "/v1.0/groups?$top=1", token, { "client-request-id": "trace-me" });
    const record = emulator.requests.findLast((r) => r.clientRequestId === "trace-me");
    expect(record).toMatchObject({ method: "GET", path: "/v1.0/groups?$top=1", status: 200 });
  });
});

describe("throttling and latency", () => {
  test("answers 429 TooManyRequests with Retry-After once the rate is exceeded", async () => {
    const emulator = await startGraphEmulator({ seed: { users: 20 }, rateLimit: { requestsPerSecond: 3 } });
    try {
      const token = await getToken(emulator, SANDBOX_GRAPH_CLIENT);
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => graphGet<GraphErrorBody>(emulator, "/v1.0/users?$top=1", token)),
      );
      const throttled = responses.filter((r) => r.status === 429);
      expect(responses.filter((r) => r.status === 200).length).toBeLessThanOrEqual(3);
      expect(throttled.length).toBeGreaterThanOrEqual(5);
      const retryAfter = Number(throttled[0]!.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(throttled[0]!.body.error.code).toBe("TooManyRequests");
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      expect((await graphGet(emulator, "/v1.0/users?$top=1", token)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  test("fault bursts: the next N requests get 429, then the next M get 503, then Graph answers again", async () => {
    const emulator = await startGraphEmulator({ seed: { users: 20 } });
    try {
      const token = await getToken(emulator);
      emulator.configure({ burst429: 2, burst503: 1 });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await graphGet<GraphErrorBody>(emulator, "/v1.0/users?$top=1", token);
        statuses.push(response.status);
        if (response.status !== 200) {
          expect(response.headers.get("retry-after")).toBe("1");
          expect(response.body.error.code).toBe(
            response.status === 429 ? "TooManyRequests" : "ServiceUnavailable",
          );
        }
      }
      expect(statuses).toEqual([429, 429, 503, 200]);
      // Sign-in is not part of the burst: a token is still issued while Graph is answering 503.
      emulator.configure({ burst503: 5 });
      expect(await getToken(emulator)).toBeTruthy();
    } finally {
      await emulator.close();
    }
  });

  test("adds the configured latency", async () => {
    const emulator = await startGraphEmulator({ seed: { users: 20 }, latencyMs: 150 });
    try {
      const token = await getToken(emulator);
      const started = performance.now();
      await graphGet(emulator, "/v1.0/users?$top=1", token);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await emulator.close();
    }
  });
});
