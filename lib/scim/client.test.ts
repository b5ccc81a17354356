import { afterEach, describe, expect, test } from "vitest";
import { generate } from "selfsigned";
import { createAdaptiveLimiter } from "./adaptive-limiter";
import { createScimClient, expectSingleMatch, type ScimClientOptions, type ScimExchange } from "./client";
import { ScimError } from "./errors";
import { and, eq } from "./filter";
import type { RequestLimiter } from "./limiter";
import { SCIM_SCHEMAS } from "./schemas";
import {
  closedPortUrl,
  listResponse,
  sendScim,
  startTestServer,
  type TestHandler,
  type TestServer,
} from "../../test/http-server";

const TOKEN = "dp-key-5f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a";
const fastRetries = { baseDelayMs: 5, maxDelayMs: 20, maxTotalWaitMs: 5_000 };
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: TestHandler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const server = await startTestServer(handler, tls);
  servers.push(server);
  return server;
}

function clientFor(server: { url: string }, overrides: Partial<ScimClientOptions> = {}) {
  const exchanges: ScimExchange[] = [];
  const client = createScimClient({
    baseUrl: `${server.url}/scim`,
    token: TOKEN,
    retryPolicy: fastRetries,
    onExchange: (exchange) => exchanges.push(exchange),
    ...overrides,
  });
  return { client, exchanges };
}

async function caught(promise: Promise<unknown>): Promise<ScimError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const user = (id: string, userName: string) => ({ schemas: [SCIM_SCHEMAS.user], id, userName, active: true });

describe("requests on the wire", () => {
  test("a match query sends the SCIM media type, the bearer token and a percent-encoded filter", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 200, listResponse([user("u1", 'o"brien@contoso.example')])),
    );
    const { client } = clientFor(server);
    const users = await client.findUsers(and(eq("userName", 'o"brien@contoso.example'), eq("active", true)));
    expect(users.map((found) => found.id)).toEqual(["u1"]);
    const [request] = server.requests;
    expect(request?.method).toBe("GET");
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).toContain("application/scim+json");
    const url = new URL(request?.url ?? "", server.url);
    expect(url.pathname).toBe("/scim/Users");
    expect(url.searchParams.get("filter")).toBe('userName eq "o\\"brien@contoso.example" and active eq true');
    expect(request?.url).not.toContain("+");
  });

  test("create, patch, replace and delete use the right verbs, paths and bodies", async () => {
    const server = await serve((request, response) => {
      if (request.method === "POST")
        return sendScim(response, 201, { ...JSON.parse(request.body), id: "new-1" });
      if (request.method === "PATCH") return void response.writeHead(204).end();
      if (request.method === "PUT")
        return sendScim(response, 200, { ...JSON.parse(request.body), id: "new-1" });
      response.writeHead(204).end();
    });
    const { client } = clientFor(server);
    const created = await client.createUser({
      schemas: [SCIM_SCHEMAS.user],
      userName: "ada@contoso.example",
      active: true,
    });
    expect(created.id).toBe("new-1");
    const patched = await client.patchUser("new-1", [{ op: "Replace", path: "active", value: false }]);
    expect(patched).toBeUndefined();
    await client.replaceUser("new-1", { schemas: [SCIM_SCHEMAS.user], userName: "ada@contoso.example" });
    await client.deleteUser("id with/slash");
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      "POST /scim/Users",
      "PATCH /scim/Users/new-1",
      "PUT /scim/Users/new-1",
      "DELETE /scim/Users/id%20with%2Fslash",
    ]);
    expect(server.requests[0]?.headers["content-type"]).toBe("application/scim+json");
    expect(JSON.parse(server.requests[1]?.body ?? "")).toEqual({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "Replace", path: "active", value: false }],
    });
  });

  test("group reads ask the target to leave members out", async () => {
    const server = await serve((request, response) =>
      request.url.includes("filter")
        ? sendScim(response, 200, listResponse([{ id: "g1", displayName: "Sales" }]))
        : sendScim(response, 200, { id: "g1", displayName: "Sales" }),
    );
    const { client } = clientFor(server);
    await client.findGroups(eq("displayName", "Sales"), { excludeMembers: true });
    await client.getGroup("g1", { excludeMembers: true });
    await client.getGroup("g1", { excludeMembers: false });
    expect(server.requests.map((request) => request.url)).toEqual([
      "/scim/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Sales%22",
      "/scim/Groups/g1?excludedAttributes=members",
      "/scim/Groups/g1",
    ]);
  });

  test("listUsers pages with startIndex/count and accepts a ListResponse without Resources", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 200, { schemas: [SCIM_SCHEMAS.listResponse], totalResults: 0 }),
    );
    const { client } = clientFor(server);
    const page = await client.listUsers({ startIndex: 101, count: 100 });
    expect(page).toMatchObject({ totalResults: 0, Resources: [] });
    expect(server.requests[0]?.url).toBe("/scim/Users?startIndex=101&count=100");
  });
});

describe("testConnection (Entra's probe)", () => {
  test("succeeds on an empty ListResponse for a random userName", async () => {
    const server = await serve((_request, response) => sendScim(response, 200, listResponse([])));
    const result = await clientFor(server).client.testConnection();
    expect(result).toMatchObject({ ok: true, status: 200 });
    const filter = new URL(server.requests[0]?.url ?? "", server.url).searchParams.get("filter");
    expect(filter).toMatch(/^userName eq "[0-9a-f-]{36}"$/);
  });

  test.each([
    [
      401,
      { schemas: [SCIM_SCHEMAS.error], status: "401", detail: "Invalid API key" },
      /secret token was rejected \(HTTP 401\)/,
    ],
    [
      403,
      { schemas: [SCIM_SCHEMAS.error], status: "403", detail: "Forbidden" },
      /not allowed to manage users \(HTTP 403\)/,
    ],
    [404, "<html><body>Not Found</body></html>", /tenant URL was not found \(HTTP 404\)/],
    [500, { detail: "db down" }, /server error \(HTTP 500\)/],
    [429, { detail: "slow down" }, /rate limiting/],
  ])("HTTP %i gives an admin-facing message", async (status, body, message) => {
    const server = await serve((_request, response) =>
      typeof body === "string"
        ? void response.writeHead(status, { "Content-Type": "text/html" }).end(body)
        : sendScim(response, status, body),
    );
    const result = await clientFor(server).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.status).toBe(status);
    expect(result.message).toMatch(message);
    expect(server.requests).toHaveLength(1);
  });

  test("an HTML page with status 200 is reported as not a SCIM endpoint", async () => {
    const server = await serve(
      (_request, response) =>
        void response
          .writeHead(200, { "Content-Type": "text/html" })
          .end("<!doctype html><title>Dialpad</title>"),
    );
    const result = await clientFor(server).client.testConnection();
    expect(result).toMatchObject({ ok: false, status: 200 });
    expect(result.message).toMatch(/web page instead of SCIM/);
  });

  test("a target that ignores the filter fails the test", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 200, listResponse([user("1", "a"), user("2", "b")])),
    );
    const result = await clientFor(server).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/ignore SCIM filters/);
  });

  test("a redirect is refused and the token never reaches the other host", async () => {
    const elsewhere = await serve((_request, response) => sendScim(response, 200, listResponse([])));
    const server = await serve(
      (_request, response) =>
        void response.writeHead(302, { Location: `${elsewhere.url}/scim/Users?apikey=${TOKEN}` }).end(),
    );
    const result = await clientFor(server).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.status).toBe(302);
    expect(result.message).toMatch(/redirected \(HTTP 302\).*not followed/);
    expect(elsewhere.requests).toHaveLength(0);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  test("connection refused", async () => {
    const result = await clientFor({ url: await closedPortUrl() }).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/connection to 127\.0\.0\.1:\d+ was refused/);
  });

  test("DNS failure", async () => {
    const dnsFailure: typeof fetch = () =>
      Promise.reject(
        Object.assign(new TypeError("fetch failed"), {
          cause: Object.assign(new Error("getaddrinfo ENOTFOUND dialpad.invalid"), { code: "ENOTFOUND" }),
        }),
      );
    const client = createScimClient({
      baseUrl: "https://dialpad.invalid/scim",
      token: TOKEN,
      fetch: dnsFailure,
    });
    const result = await client.testConnection();
    expect(result.message).toMatch(/host name dialpad\.invalid could not be found \(DNS\)/);
  });

  test("an untrusted TLS certificate", async () => {
    const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], { keySize: 2048 });
    const server = await serve((_request, response) => sendScim(response, 200, listResponse([])), {
      key: pems.private,
      cert: pems.cert,
    });
    const result = await clientFor(server).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(
      /TLS certificate of 127\.0\.0\.1:\d+ could not be verified \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
    );
  });

  test("a slow target times out", async () => {
    const server = await serve(
      (_request, response) => void setTimeout(() => sendScim(response, 200, listResponse([])), 500),
    );
    const result = await clientFor(server, { timeoutMs: 100 }).client.testConnection();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/did not answer within/);
  });

  test("plain http to a non-local host is refused before any request", async () => {
    let called = false;
    const client = createScimClient({
      baseUrl: "http://dialpad.example/scim",
      token: TOKEN,
      fetch: () => ((called = true), Promise.reject(new Error("no"))),
    });
    const result = await client.testConnection();
    expect(result.message).toMatch(/must use https/);
    expect(called).toBe(false);
  });
});

describe("retries", () => {
  test("429 waits for Retry-After (seconds) before retrying", async () => {
    const server = await serve((_request, response, index) =>
      index === 0
        ? sendScim(response, 429, { detail: "rate limited" }, { "Retry-After": "1" })
        : sendScim(response, 200, user("u1", "a")),
    );
    const started = Date.now();
    const found = await clientFor(server).client.getUser("u1");
    expect(found.id).toBe("u1");
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("503 honours Retry-After given as an HTTP date", async () => {
    const server = await serve((_request, response, index) =>
      index === 0
        ? sendScim(response, 503, "", { "Retry-After": new Date(Date.now() - 1_000).toUTCString() })
        : sendScim(response, 200, user("u1", "a")),
    );
    await expect(clientFor(server).client.getUser("u1")).resolves.toMatchObject({ id: "u1" });
    expect(server.requests).toHaveLength(2);
  });

  test("5xx and dropped connections are retried with backoff up to maxRetries, then the last error is thrown", async () => {
    const server = await serve((request, response, index) =>
      index % 2 === 0
        ? void (request && response.destroy())
        : sendScim(response, 502, { detail: "bad gateway" }),
    );
    const { client, exchanges } = clientFor(server, { maxRetries: 3 });
    const error = await caught(client.getUser("u1"));
    expect(server.requests).toHaveLength(4);
    expect(error).toMatchObject({ code: "InternalServerError", status: 502, attempts: 4, retryable: true });
    expect(exchanges.map((exchange) => exchange.attempt)).toEqual([1, 2, 3, 4]);
    expect(exchanges[0]).toMatchObject({ errorCode: "ConnectionFailed" });
    expect(exchanges[0]?.status).toBeUndefined();
  });

  test("4xx other than 429 is never retried", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 400, {
        schemas: [SCIM_SCHEMAS.error],
        status: "400",
        scimType: "invalidValue",
        detail: "bad email",
      }),
    );
    const error = await caught(
      clientFor(server).client.patchUser("u1", [
        { op: "Replace", path: 'emails[type eq "work"].value', value: "x" },
      ]),
    );
    expect(error).toMatchObject({
      code: "BadRequest",
      status: 400,
      scimType: "invalidValue",
      detail: "bad email",
      retryable: false,
    });
    expect(server.requests).toHaveLength(1);
  });

  test("a timed-out GET is retried", async () => {
    const server = await serve((_request, response, index) =>
      index === 0
        ? void setTimeout(() => sendScim(response, 200, user("u1", "a")), 400)
        : sendScim(response, 200, user("u1", "a")),
    );
    await expect(clientFor(server, { timeoutMs: 100 }).client.getUser("u1")).resolves.toMatchObject({
      id: "u1",
    });
    expect(server.requests).toHaveLength(2);
  });

  test("a POST that hit a 500 is not repeated (it may have created the user), but a throttled POST is", async () => {
    const failing = await serve((_request, response) => sendScim(response, 500, { detail: "oops" }));
    const error = await caught(
      clientFor(failing).client.createUser({ schemas: [SCIM_SCHEMAS.user], userName: "a" }),
    );
    expect(error.code).toBe("InternalServerError");
    expect(failing.requests).toHaveLength(1);

    const throttled = await serve((request, response, index) =>
      index === 0
        ? sendScim(response, 429, {}, { "Retry-After": "0" })
        : sendScim(response, 201, { ...JSON.parse(request.body), id: "n1" }),
    );
    await expect(
      clientFor(throttled).client.createUser({ schemas: [SCIM_SCHEMAS.user], userName: "a" }),
    ).resolves.toMatchObject({ id: "n1" });
    expect(throttled.requests).toHaveLength(2);
  });

  test("a Retry-After beyond the wait budget is handed back to the caller instead of sleeping", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 429, { detail: "quota" }, { "Retry-After": "3600" }),
    );
    const started = Date.now();
    const error = await caught(clientFor(server).client.getUser("u1"));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ code: "TooManyRequests", retryable: true, retryAfterMs: 3_600_000 });
    expect(server.requests).toHaveLength(1);
  });

  test("every attempt goes through the limiter, which hears about throttling", async () => {
    const calls: string[] = [];
    const limiter: RequestLimiter = {
      acquire: async () => void calls.push("acquire"),
      onThrottled: (retryAfterMs) => void calls.push(`throttled:${retryAfterMs}`),
      onSuccess: () => void calls.push("success"),
      release: () => void calls.push("release"),
    };
    const server = await serve((_request, response, index) =>
      index === 0
        ? sendScim(response, 429, {}, { "Retry-After": "0" })
        : sendScim(response, 200, user("u1", "a")),
    );
    await clientFor(server, { limiter }).client.getUser("u1");
    expect(calls).toEqual(["acquire", "throttled:0", "release", "acquire", "success", "release"]);
  });

  test("the adaptive limiter slows down after a 429 from the target", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 50 });
    const server = await serve((_request, response, index) =>
      index === 0
        ? sendScim(response, 429, {}, { "Retry-After": "0" })
        : sendScim(response, 200, user("u1", "a")),
    );
    await clientFor(server, { limiter }).client.getUser("u1");
    expect(limiter.stats()).toMatchObject({ throttledCount: 1, inFlight: 0 });
    expect(limiter.stats().ratePerSecond).toBeLessThan(50);
  });
});

describe("response validation", () => {
  test("malformed JSON → ServiceIncompatible carrying the request (secrets removed) and a response excerpt", async () => {
    const server = await serve(
      (_request, response) =>
        void response
          .writeHead(201, { "Content-Type": "application/scim+json" })
          .end('{"id": "u1", "userName": '),
    );
    const error = await caught(
      clientFor(server).client.createUser({
        schemas: [SCIM_SCHEMAS.user],
        userName: "ada",
        password: "Hunter2!Hunter2!",
      }),
    );
    expect(error.code).toBe("SystemForCrossDomainIdentityManagementServiceIncompatible");
    expect(error.retryable).toBe(false);
    expect(error.request.method).toBe("POST");
    expect(error.request.url).toBe(`${server.url}/scim/Users`);
    expect(error.request.body).toContain('"userName":"ada"');
    expect(error.request.body).not.toContain("Hunter2!");
    expect(error.response).toMatchObject({ status: 201, bodyExcerpt: '{"id": "u1", "userName": ' });
  });

  test.each([
    ["ListResponse without totalResults", { Resources: [] }],
    [
      "resource without id",
      { schemas: [SCIM_SCHEMAS.listResponse], totalResults: 1, Resources: [{ userName: "a" }] },
    ],
    ["a bare array", [user("u1", "a")]],
  ])("%s → ServiceIncompatible", async (_name, body) => {
    const server = await serve((_request, response) => sendScim(response, 200, body));
    const error = await caught(clientFor(server).client.findUsers(eq("userName", "a")));
    expect(error.code).toBe("SystemForCrossDomainIdentityManagementServiceIncompatible");
    expect(error.request.url).toContain("/scim/Users?filter=");
  });

  test("created user without an id → ServiceIncompatible", async () => {
    const server = await serve((_request, response) => sendScim(response, 201, { userName: "a" }));
    const error = await caught(
      clientFor(server).client.createUser({ schemas: [SCIM_SCHEMAS.user], userName: "a" }),
    );
    expect(error.code).toBe("SystemForCrossDomainIdentityManagementServiceIncompatible");
    expect(error.detail).toMatch(/id/);
  });

  test("GET by id answered with a list → MultipleEntriesInResponse", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 200, listResponse([user("u1", "a"), user("u2", "b")])),
    );
    const error = await caught(clientFor(server).client.getUser("u1"));
    expect(error.code).toBe("SystemForCrossDomainIdentityManagementMultipleEntriesInResponse");
  });

  test("404 on a linked id is InvalidAnchor; 404 on a query means a non-SCIM endpoint", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 404, { schemas: [SCIM_SCHEMAS.error], status: 404, detail: "User not found" }),
    );
    const { client } = clientFor(server);
    expect(await caught(client.getUser("gone"))).toMatchObject({
      code: "InvalidAnchor",
      status: 404,
      detail: "User not found",
    });
    expect((await caught(client.findUsers(eq("userName", "a")))).code).toBe(
      "SystemForCrossDomainIdentityManagementServiceIncompatible",
    );
  });

  test("409 uniqueness → EntryConflict", async () => {
    const server = await serve((_request, response) =>
      sendScim(response, 409, {
        schemas: [SCIM_SCHEMAS.error],
        status: "409",
        scimType: "uniqueness",
        detail: "userName taken",
      }),
    );
    const error = await caught(
      clientFor(server).client.createUser({ schemas: [SCIM_SCHEMAS.user], userName: "a" }),
    );
    expect(error).toMatchObject({ code: "EntryConflict", scimType: "uniqueness" });
  });

  test("discovery endpoints are validated", async () => {
    const server = await serve((request, response) => {
      if (request.url.endsWith("/ServiceProviderConfig"))
        return sendScim(response, 200, {
          patch: { supported: true },
          filter: { supported: true, maxResults: 100 },
        });
      if (request.url.endsWith("/ResourceTypes"))
        return sendScim(
          response,
          200,
          listResponse([{ name: "User", endpoint: "/Users", schema: SCIM_SCHEMAS.user }]),
        );
      sendScim(
        response,
        200,
        listResponse([{ id: SCIM_SCHEMAS.user, name: "User", attributes: [{ name: "userName" }] }]),
      );
    });
    const { client } = clientFor(server);
    expect((await client.getServiceProviderConfig()).filter?.maxResults).toBe(100);
    expect((await client.getResourceTypes()).Resources[0]?.endpoint).toBe("/Users");
    expect((await client.getSchemas()).Resources[0]?.id).toBe(SCIM_SCHEMAS.user);
  });
});

describe("expectSingleMatch", () => {
  test("returns the only match, undefined for none, DuplicateTargetEntries for several", () => {
    expect(expectSingleMatch([])).toBeUndefined();
    expect(expectSingleMatch([user("u1", "a")])?.id).toBe("u1");
    expect(() => expectSingleMatch([user("u1", "a"), user("u2", "a")])).toThrow(
      expect.objectContaining({ code: "DuplicateTargetEntries", retryable: false }),
    );
  });
});

describe("the secret token never leaks", () => {
  test("not in errors, exchange records or test-connection results, even when the target echoes it", async () => {
    const server = await serve((request, response) => {
      const echoed = `your header was ${request.headers.authorization}`;
      if (request.url.includes("/Users/ok"))
        return sendScim(response, 200, { ...user("ok", "a"), note: echoed, apiKey: TOKEN });
      if (request.url.includes("/Users/moved"))
        return void response.writeHead(301, { Location: `https://evil.example/?apikey=${TOKEN}` }).end();
      if (request.url.includes("/Users/html"))
        return void response.writeHead(200, { "Content-Type": "text/html" }).end(`<html>${echoed}</html>`);
      sendScim(response, 401, { schemas: [SCIM_SCHEMAS.error], status: "401", detail: echoed });
    });
    const { client, exchanges } = clientFor(server);
    const thrown: unknown[] = [];
    await client.getUser("ok");
    for (const call of [
      client.getUser("moved"),
      client.getUser("html"),
      client.getUser("denied"),
      client.createUser({ schemas: [], userName: "a", token: TOKEN }),
    ]) {
      await call.catch((error: unknown) => thrown.push(error));
    }
    const connection = await client.testConnection();
    expect(thrown).toHaveLength(4);
    const everything = [
      ...thrown.map((error) => JSON.stringify(error)),
      ...thrown.map((error) => String(error)),
      ...thrown.map((error) => (error as Error).stack ?? ""),
      ...thrown.map((error) => JSON.stringify(describeEverything(error))),
      JSON.stringify(exchanges),
      JSON.stringify(connection),
    ].join("\n");
    expect(everything).toContain("your header was Bearer [redacted]");
    expect(everything).not.toContain(TOKEN);
    expect(exchanges.length).toBeGreaterThanOrEqual(5);
    for (const exchange of exchanges)
      expect(Object.keys(exchange).join(",")).not.toMatch(/header|authorization/i);
  });
});

function describeEverything(error: unknown): unknown {
  return error instanceof ScimError ? { ...error.toJSON(), message: error.message } : error;
}
