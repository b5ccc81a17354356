import { afterEach, describe, expect, test } from "vitest";
import { collectAll, createGraphClient, odataString, type GraphTokenProvider } from "./client";
import { GraphError } from "./errors";
import { sendJson, startTestServer, type TestHandler, type TestServer } from "../../test/http-server";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-token-7c1e";
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: TestHandler): Promise<TestServer> {
  const server = await startTestServer(handler);
  servers.push(server);
  return server;
}

function staticTokens(...tokens: string[]) {
  const calls: Array<{ forceRefresh?: boolean } | undefined> = [];
  const provider: GraphTokenProvider = {
    getToken: async (options) => {
      calls.push(options);
      return tokens[Math.min(calls.length - 1, tokens.length - 1)] ?? TOKEN;
    },
  };
  return { provider, calls };
}

function graphFor(
  server: TestServer,
  tokenProvider: GraphTokenProvider = staticTokens(TOKEN).provider,
  timeoutMs?: number,
) {
  return createGraphClient({
    baseUrl: `${server.url}/v1.0`,
    tokenProvider,
    retryPolicy: { baseDelayMs: 5, maxDelayMs: 20 },
    timeoutMs,
  });
}

async function caught(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const query = (server: TestServer, index: number) => new URL(server.requests[index]?.url ?? "", server.url);

describe("paging", () => {
  test("listUsers follows @odata.nextLink until the last page", async () => {
    const server = await serve((request, response) => {
      const skip = new URL(request.url, "http://x").searchParams.get("$skiptoken");
      const next = (token: string) =>
        `http://${request.headers.host}/v1.0/users?$select=id,displayName&$top=2&$skiptoken=${token}`;
      if (!skip)
        return sendJson(response, 200, { value: [{ id: "1" }, { id: "2" }], "@odata.nextLink": next("p2") });
      if (skip === "p2")
        return sendJson(response, 200, { value: [{ id: "3" }, { id: "4" }], "@odata.nextLink": next("p3") });
      sendJson(response, 200, { value: [{ id: "5", displayName: "Eve" }] });
    });
    const pages = [];
    for await (const page of graphFor(server).listUsers({ select: ["id", "displayName"], pageSize: 2 }))
      pages.push(page);
    expect(pages.map((page) => page.value.map((user) => user.id))).toEqual([["1", "2"], ["3", "4"], ["5"]]);
    expect(pages[0]?.nextLink).toContain("$skiptoken=p2");
    expect(pages[2]?.nextLink).toBeUndefined();
    expect(query(server, 0).pathname).toBe("/v1.0/users");
    expect(query(server, 0).searchParams.get("$select")).toBe("id,displayName");
    expect(query(server, 0).searchParams.get("$top")).toBe("2");
    expect(server.requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`)).toBe(
      true,
    );
  });

  test("a nextLink pointing at another host is not followed", async () => {
    const elsewhere = await serve((_request, response) => sendJson(response, 200, { value: [] }));
    const server = await serve((_request, response) =>
      sendJson(response, 200, {
        value: [{ id: "1" }],
        "@odata.nextLink": `${elsewhere.url}/v1.0/users?$skiptoken=x`,
      }),
    );
    const error = await caught(collectAll(graphFor(server).listGroups()));
    expect(error.code).toBe("UntrustedNextLink");
    expect(elsewhere.requests).toHaveLength(0);
  });

  test("group members keep their @odata.type; service principal app roles and assignments parse", async () => {
    const server = await serve((request, response) => {
      if (request.url.startsWith("/v1.0/groups/g1/members"))
        return sendJson(response, 200, {
          value: [
            { "@odata.type": "#microsoft.graph.user", id: "u1", userPrincipalName: "ada@contoso.example" },
            { "@odata.type": "#microsoft.graph.group", id: "g2", displayName: "Nested" },
          ],
        });
      if (request.url.startsWith("/v1.0/servicePrincipals/sp1/appRoleAssignedTo"))
        return sendJson(response, 200, {
          value: [{ id: "a1", appRoleId: "r1", principalId: "u1", principalType: "User", resourceId: "sp1" }],
        });
      sendJson(response, 200, {
        id: "sp1",
        appId: "app",
        displayName: "Dialpad",
        appRoles: [
          { id: "r1", value: "User", displayName: "User", isEnabled: true, allowedMemberTypes: ["User"] },
        ],
      });
    });
    const graph = graphFor(server);
    const members = await collectAll(
      graph.listGroupMembers("g1", ["id", "userPrincipalName", "displayName"]),
    );
    expect(members.map((member) => member["@odata.type"])).toEqual([
      "#microsoft.graph.user",
      "#microsoft.graph.group",
    ]);
    expect(query(server, 0).searchParams.get("$select")).toBe("id,userPrincipalName,displayName");
    expect((await graph.getServicePrincipal("sp1")).appRoles[0]?.value).toBe("User");
    expect((await collectAll(graph.listAppRoleAssignedTo("sp1")))[0]).toMatchObject({
      appRoleId: "r1",
      principalType: "User",
    });
  });
});

describe("delta", () => {
  test("pages through nextLinks to a deltaLink, keeping @removed and members@delta", async () => {
    const server = await serve((request, response) => {
      const host = `http://${request.headers.host}`;
      if (request.url.includes("$deltatoken=round2"))
        return sendJson(response, 200, {
          value: [{ id: "g1", "@removed": { reason: "deleted" } }],
          "@odata.deltaLink": `${host}/v1.0/groups/delta?$deltatoken=round3`,
        });
      if (request.url.includes("$skiptoken=s2"))
        return sendJson(response, 200, {
          value: [
            {
              id: "g2",
              displayName: "Support",
              "members@delta": [
                { "@odata.type": "#microsoft.graph.user", id: "u9", "@removed": { reason: "deleted" } },
              ],
            },
          ],
          "@odata.deltaLink": `${host}/v1.0/groups/delta?$deltatoken=round2`,
        });
      sendJson(response, 200, {
        value: [
          {
            id: "g1",
            displayName: "Sales",
            "members@delta": [{ "@odata.type": "#microsoft.graph.user", id: "u1" }],
          },
        ],
        "@odata.nextLink": `${host}/v1.0/groups/delta?$skiptoken=s2`,
      });
    });
    const graph = graphFor(server);
    const firstRound = [];
    for await (const page of graph.groupsDelta({ select: ["displayName", "members"], pageSize: 100 }))
      firstRound.push(page);
    expect(firstRound).toHaveLength(2);
    expect(firstRound[0]).toMatchObject({ nextLink: expect.stringContaining("$skiptoken=s2") });
    expect(firstRound[0]?.deltaLink).toBeUndefined();
    expect(firstRound[1]?.deltaLink).toContain("$deltatoken=round2");
    expect(firstRound[1]?.value[0]?.["members@delta"]?.[0]).toEqual({
      "@odata.type": "#microsoft.graph.user",
      id: "u9",
      "@removed": { reason: "deleted" },
    });
    expect(query(server, 0).pathname).toBe("/v1.0/groups/delta");
    expect(query(server, 0).searchParams.get("$select")).toBe("displayName,members");
    expect(server.requests[0]?.headers.prefer).toBe("odata.maxpagesize=100");

    const secondRound = await collectAll(graph.groupsDelta({ deltaLink: firstRound[1]?.deltaLink }));
    expect(secondRound).toEqual([{ id: "g1", "@removed": { reason: "deleted" } }]);
    expect(server.requests.at(-1)?.url).toBe("/v1.0/groups/delta?$deltatoken=round2");
  });

  test("appRoleAssignmentsDelta asks for assignments only, follows nextLinks and drops other types", async () => {
    const server = await serve((request, response) => {
      const host = `http://${request.headers.host}`;
      if (request.url.includes("$skiptoken=p2"))
        return sendJson(response, 200, {
          value: [
            {
              "@odata.type": "#microsoft.graph.appRoleAssignment",
              id: "a2",
              "@removed": { reason: "deleted" },
            },
            { "@odata.type": "#microsoft.graph.user", id: "u1", "@removed": { reason: "changed" } },
          ],
          "@odata.deltaLink": `${host}/v1.0/directoryObjects/delta?$deltatoken=next`,
        });
      sendJson(response, 200, {
        value: [
          { "@odata.type": "#microsoft.graph.user", id: "u1", displayName: "Zoë" },
          {
            "@odata.type": "#microsoft.graph.appRoleAssignment",
            id: "a1",
            principalId: "p1",
            principalType: "Group",
            resourceId: "r1",
            appRoleId: "role1",
          },
        ],
        "@odata.nextLink": `${host}/v1.0/directoryObjects/delta?$skiptoken=p2`,
      });
    });
    const graph = graphFor(server);
    const round = [];
    for await (const page of graph.appRoleAssignmentsDelta({ latest: true, pageSize: 50 })) round.push(page);
    expect(round.map((page) => page.value)).toEqual([
      [
        {
          "@odata.type": "#microsoft.graph.appRoleAssignment",
          id: "a1",
          principalId: "p1",
          principalType: "Group",
          resourceId: "r1",
          appRoleId: "role1",
        },
      ],
      [{ "@odata.type": "#microsoft.graph.appRoleAssignment", id: "a2", "@removed": { reason: "deleted" } }],
    ]);
    expect(round[0]?.nextLink).toContain("$skiptoken=p2");
    expect(round[1]?.deltaLink).toBe(`${server.url}/v1.0/directoryObjects/delta?$deltatoken=next`);
    expect(query(server, 0).pathname).toBe("/v1.0/directoryObjects/delta");
    expect(query(server, 0).searchParams.get("$filter")).toBe("isof('microsoft.graph.appRoleAssignment')");
    expect(query(server, 0).searchParams.get("$deltatoken")).toBe("latest");
    expect(server.requests.map((request) => request.headers.prefer)).toEqual([
      "odata.maxpagesize=50",
      "odata.maxpagesize=50",
    ]);

    // A deltaLink wins over latest; without latest the first request carries no $deltatoken.
    const sent = server.requests.length;
    await collectAll(graph.appRoleAssignmentsDelta({ deltaLink: round[1]?.deltaLink, latest: true }));
    expect(server.requests[sent]?.url).toBe("/v1.0/directoryObjects/delta?$deltatoken=next");
    const again = server.requests.length;
    await collectAll(graph.appRoleAssignmentsDelta());
    expect(query(server, again).searchParams.has("$deltatoken")).toBe(false);
    expect(server.requests[again]?.headers.prefer).toBeUndefined();
  });

  test("an expired delta token (410) tells the caller to resync", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 410, {
        error: { code: "SyncStateNotFound", message: "The sync state generation is old." },
      }),
    );
    const error = await caught(
      collectAll(
        graphFor(server).usersDelta({ deltaLink: `${server.url}/v1.0/users/delta?$deltatoken=old` }),
      ),
    );
    expect(error).toMatchObject({
      status: 410,
      code: "SyncStateNotFound",
      retryable: false,
      resyncRequired: true,
    });
  });
});

describe("errors and retries", () => {
  test("Graph's error body becomes a GraphError with the request attached", async () => {
    const server = await serve((_request, response) =>
      sendJson(
        response,
        404,
        {
          error: {
            code: "Request_ResourceNotFound",
            message: "Resource 'x' does not exist.",
            innerError: { "request-id": "r-1" },
          },
        },
        { "request-id": "r-1" },
      ),
    );
    const error = await caught(graphFor(server).getUser("x"));
    expect(error).toMatchObject({
      status: 404,
      code: "Request_ResourceNotFound",
      message: "Resource 'x' does not exist.",
      retryable: false,
      requestId: "r-1",
    });
    expect(error.request).toEqual({ method: "GET", url: `${server.url}/v1.0/users/x` });
    expect(server.requests).toHaveLength(1);
  });

  test("403 explains which permissions the app needs", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 403, {
        error: {
          code: "Authorization_RequestDenied",
          message: "Insufficient privileges to complete the operation.",
        },
      }),
    );
    const error = await caught(graphFor(server).getGroup("g1"));
    expect(error.code).toBe("Authorization_RequestDenied");
    expect(error.message).toMatch(/GroupMember\.Read\.All/);
  });

  test("429 honours Retry-After", async () => {
    const server = await serve((_request, response, index) =>
      index === 0
        ? sendJson(
            response,
            429,
            { error: { code: "TooManyRequests", message: "throttled" } },
            { "Retry-After": "1" },
          )
        : sendJson(response, 200, { id: "u1" }),
    );
    const started = Date.now();
    await expect(graphFor(server).getUser("u1")).resolves.toMatchObject({ id: "u1" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test.each([503, 504, 500])("HTTP %i is retried", async (status) => {
    const server = await serve((_request, response, index) =>
      index < 2
        ? sendJson(response, status, "", { "Retry-After": "0" })
        : sendJson(response, 200, { id: "u1" }),
    );
    await expect(graphFor(server).getUser("u1")).resolves.toMatchObject({ id: "u1" });
    expect(server.requests).toHaveLength(3);
  });

  test("retries stop after maxRetries", async () => {
    const server = await serve((_request, response) =>
      sendJson(
        response,
        503,
        { error: { code: "serviceNotAvailable", message: "later" } },
        { "Retry-After": "0" },
      ),
    );
    const client = createGraphClient({
      baseUrl: `${server.url}/v1.0`,
      tokenProvider: staticTokens(TOKEN).provider,
      maxRetries: 2,
    });
    const error = await caught(client.getUser("u1"));
    expect(error).toMatchObject({ status: 503, code: "serviceNotAvailable", attempts: 3 });
    expect(server.requests).toHaveLength(3);
  });

  test("a 401 gets one fresh token, then succeeds", async () => {
    const server = await serve((request, response) =>
      request.headers.authorization === "Bearer fresh"
        ? sendJson(response, 200, { id: "u1" })
        : sendJson(response, 401, {
            error: {
              code: "InvalidAuthenticationToken",
              message: "Lifetime validation failed, the token is expired.",
            },
          }),
    );
    const tokens = staticTokens("stale", "fresh");
    await expect(graphFor(server, tokens.provider).getUser("u1")).resolves.toMatchObject({ id: "u1" });
    expect(tokens.calls).toEqual([undefined, { forceRefresh: true }]);
  });

  test("a second 401 after the refresh is a clear configuration error", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 401, {
        error: { code: "InvalidAuthenticationToken", message: "Access token validation failure." },
      }),
    );
    const tokens = staticTokens(TOKEN);
    const error = await caught(graphFor(server, tokens.provider).getUser("u1"));
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/rejected the access token even after a new one was requested/);
    expect(server.requests).toHaveLength(2);
  });

  test("a slow answer times out and is retried", async () => {
    const server = await serve((_request, response, index) =>
      index === 0
        ? void setTimeout(() => sendJson(response, 200, { id: "late" }), 400)
        : sendJson(response, 200, { id: "u1" }),
    );
    await expect(graphFor(server, undefined, 100).getUser("u1")).resolves.toMatchObject({ id: "u1" });
  });

  test("malformed JSON and unexpected shapes are InvalidResponse", async () => {
    const server = await serve((request, response) =>
      request.url.includes("/users/")
        ? void response.writeHead(200).end("{oops")
        : sendJson(response, 200, { items: [] }),
    );
    expect((await caught(graphFor(server).getUser("u1"))).code).toBe("InvalidResponse");
    expect((await caught(collectAll(graphFor(server).listUsers()))).code).toBe("InvalidResponse");
  });

  test("the access token never appears in errors", async () => {
    const server = await serve((request, response) =>
      sendJson(response, 400, {
        error: { code: "BadRequest", message: `echo ${request.headers.authorization}` },
      }),
    );
    const error = await caught(graphFor(server).getUser("u1"));
    expect(JSON.stringify(error) + String(error) + (error.stack ?? "")).not.toContain(TOKEN);
  });
});

describe("OData escaping and search", () => {
  test.each([
    ["plain", "ada", "'ada'"],
    ["apostrophe doubled", "O'Brien", "'O''Brien'"],
    ["two apostrophes", "''", "''''''"],
    ["no other escaping", 'a"b\\c', "'a\"b\\c'"],
  ])("%s", (_name, input, expected) => {
    expect(odataString(input)).toBe(expected);
  });

  test("searchUsers filters by prefix on display name, UPN and mail", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { value: [{ id: "u1", displayName: "Dan O'Brien" }] }),
    );
    const users = await graphFor(server).searchUsers("O'Bri&n", { select: ["id", "displayName"], top: 5 });
    expect(users[0]?.displayName).toBe("Dan O'Brien");
    const url = query(server, 0);
    expect(url.searchParams.get("$filter")).toBe(
      "startswith(displayName,'O''Bri&n') or startswith(userPrincipalName,'O''Bri&n') or startswith(mail,'O''Bri&n')",
    );
    expect(url.searchParams.get("$top")).toBe("5");
  });

  test("searchGroups filters by prefix on display name and mail", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { value: [{ id: "g1", displayName: "Sales" }] }),
    );
    const groups = await graphFor(server).searchGroups("Sa'les", { select: ["id", "displayName"] });
    expect(groups.map((group) => group.id)).toEqual(["g1"]);
    const url = query(server, 0);
    expect(url.searchParams.get("$filter")).toBe(
      "startswith(displayName,'Sa''les') or startswith(mail,'Sa''les')",
    );
    expect(url.searchParams.get("$top")).toBe("25");
  });

  test("listGroupUserMembers reads the user cast of the members collection, page by page", async () => {
    const server = await serve((request, response) =>
      request.url?.includes("$skiptoken")
        ? sendJson(response, 200, { value: [{ id: "u2" }] })
        : sendJson(response, 200, {
            value: [{ id: "u1" }],
            "@odata.nextLink": `${server.url}/v1.0/groups/g%201/members/microsoft.graph.user?$skiptoken=2`,
          }),
    );
    const ids: string[] = [];
    for await (const page of graphFor(server).listGroupUserMembers("g 1", ["id"]))
      ids.push(...page.value.map((user) => user.id));
    expect(ids).toEqual(["u1", "u2"]);
    expect(server.requests[0]?.url).toBe(
      "/v1.0/groups/g%201/members/microsoft.graph.user?$select=id&$top=999",
    );
  });

  test("a user's assignments for one app are filtered by the service principal id as a bare GUID", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { value: [] }));
    const sp = "30000000-0000-4000-8000-000000000001";
    for await (const page of graphFor(server).listUserAppRoleAssignments("u 1", sp))
      expect(page.value).toEqual([]);
    expect(query(server, 0).pathname).toBe("/v1.0/users/u%201/appRoleAssignments");
    expect(query(server, 0).searchParams.get("$filter")).toBe(`resourceId eq ${sp}`);
    expect(() => graphFor(server).listGroupAppRoleAssignments("g", "x' or 1 eq 1")).toThrow(
      /not an object id/,
    );
  });

  test("guest UPNs with #EXT# are path-encoded", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { id: "g" }));
    await graphFor(server).getUser("ada_fabrikam.example#EXT#@contoso.onmicrosoft.com", ["id"]);
    expect(server.requests[0]?.url).toBe(
      "/v1.0/users/ada_fabrikam.example%23EXT%23%40contoso.onmicrosoft.com?$select=id",
    );
  });
});
