/**
 * The target self-test against the sandbox Dialpad emulator over HTTPS (everything it relies on is
 * there), and against tiny scripted servers that get things wrong, to prove each warn/fail path.
 */
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import {
  SANDBOX_DIALPAD_KEY,
  startDialpadEmulator,
  type RunningDialpadEmulator,
} from "../../sandbox/dialpad/server";
import { ensureSandboxTls } from "../../sandbox/tls";
import { listResponse, sendScim, startTestServer, type RecordedRequest } from "../../test/http-server";
import { defaultDialpadMapping } from "../mapping";
import { runScimSelfTest, type ScimSelfTestReport, type SelfTestStatus } from "./self-test";

const statuses = (report: ScimSelfTestReport): Record<string, SelfTestStatus> =>
  Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
const checkOf = (report: ScimSelfTestReport, id: string) => {
  const found = report.checks.find((check) => check.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((check) => check.id).join(", ")}`);
  return found;
};

describe("against the sandbox Dialpad emulator (HTTPS, 20 requests/second)", () => {
  let dialpad: RunningDialpadEmulator;
  let report: ScimSelfTestReport;
  const defaults = defaultDialpadMapping();

  beforeAll(async () => {
    const tls = await ensureSandboxTls(inject("sandboxTlsDir"));
    dialpad = await startDialpadEmulator({ port: 0, tls: { cert: tls.cert, key: tls.key } });
    // An existing user, so pagination has two pages and the match queries have someone to not find.
    dialpad.company.createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "existing.user@contoso.example",
      externalId: "existing-1",
      active: true,
    });
    report = await runScimSelfTest({
      baseUrl: `${dialpad.url}/scim`,
      token: SANDBOX_DIALPAD_KEY,
      userMatchingAttributes: ["userName", "externalId"],
      groupMatchingAttributes: ["displayName"],
      userMappedAttributes: defaults.users.attributeMappings.map((attribute) => attribute.target),
      groupMappedAttributes: defaults.groups.attributeMappings.map((attribute) => attribute.target),
      targetName: "Dialpad",
      createTemporaryUser: true,
    });
  });
  afterAll(async () => {
    await dialpad?.close();
  });

  test("every check passes, in the documented order", () => {
    expect(dialpad.url).toMatch(/^https:/);
    expect(statuses(report)).toEqual({
      "service-provider-config": "pass",
      schemas: "pass",
      "mapped-attributes": "pass",
      "filter-users:userName": "pass",
      "filter-users:externalId": "pass",
      "filter-groups:displayName": "pass",
      "filter-escaping": "pass",
      "error-404": "pass",
      "create-user": "pass",
      "filter-finds-user": "pass",
      pagination: "pass",
      "patch-op-casing": "pass",
      "patch-boolean": "pass",
      "error-409": "pass",
      "delete-user": "pass",
      "rate-limit-headers": "pass",
    });
    expect(report.summary).toEqual({ pass: 16, warn: 0, fail: 0, skipped: 0, total: 16 });
    // The default mappings name only attributes Dialpad declares, complex paths included.
    expect(checkOf(report, "mapped-attributes").detail).toMatch(/^Dialpad declares all \d+ mapped target/);
    for (const check of report.checks) {
      expect(check.detail, check.id).not.toBe("");
      expect(check.engineAction, check.id).not.toBe("");
      expect(check.durationMs, check.id).toBeGreaterThanOrEqual(0);
    }
  });

  test("the report names the requests and what the engine does", () => {
    expect(checkOf(report, "filter-users:userName").detail).toMatch(
      /^GET \/Users\?filter=userName eq "[0-9a-f-]{36}" → HTTP 200: totalResults 0/,
    );
    expect(checkOf(report, "patch-op-casing").engineAction).toMatch(/Entra's casing \("Replace"\)/);
    expect(checkOf(report, "patch-boolean").engineAction).toMatch(/JSON true\/false/);
    expect(checkOf(report, "error-404").detail).toMatch(
      /urn:ietf:params:scim:api:messages:2.0:Error, status "404"/,
    );
    expect(checkOf(report, "error-409").detail).toMatch(/HTTP 409.*scimType uniqueness/);
    expect(checkOf(report, "rate-limit-headers").detail).toMatch(/x-ratelimit-limit: 20/);
    expect(checkOf(report, "pagination").detail).toMatch(/totalResults 2, 1 user\(s\)/);
  });

  test("exactly one user was created and nothing is left behind", () => {
    const posts = dialpad.requests.filter((r) => r.method === "POST" && r.path === "/scim/Users");
    expect(posts.map((r) => r.status)).toEqual([201, 409]);
    expect(dialpad.requests.filter((r) => r.method === "DELETE").map((r) => r.status)).toEqual([204]);
    expect([...dialpad.company.users.values()].map((user) => user.attributes.userName)).toEqual([
      "existing.user@contoso.example",
    ]);
    expect(report.temporaryUser).toMatchObject({
      userName: expect.stringMatching(/^selftest-[0-9a-f-]{36}@selftest\.invalid$/),
      created: true,
      deleted: true,
    });
    expect(report.requestCount).toBe(dialpad.requests.length);
  });

  test("the key never appears in the report", () => {
    expect(JSON.stringify(report)).not.toContain(SANDBOX_DIALPAD_KEY);
  });
});

describe("mapped attributes against the emulator's /Schemas", () => {
  const OFFICE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:officeName";
  let dialpad: RunningDialpadEmulator;

  beforeAll(async () => {
    const tls = await ensureSandboxTls(inject("sandboxTlsDir"));
    dialpad = await startDialpadEmulator({ port: 0, tls: { cert: tls.cert, key: tls.key }, rateLimit: null });
  });
  afterAll(async () => {
    await dialpad?.close();
  });

  const selfTest = (userMappedAttributes: string[], groupMappedAttributes: string[] = []) =>
    runScimSelfTest({
      baseUrl: `${dialpad.url}/scim`,
      token: SANDBOX_DIALPAD_KEY,
      userMatchingAttributes: ["userName"],
      groupMatchingAttributes: [],
      userMappedAttributes,
      groupMappedAttributes,
      targetName: "Dialpad",
      createTemporaryUser: false,
    });

  test("an attribute a strict Dialpad neither declares nor accepts is a warning that names it", async () => {
    dialpad.configure({ refuseAttributes: [OFFICE], hideRefusedAttributes: true });
    try {
      const report = await selfTest(["userName", 'emails[type eq "work"].value', OFFICE]);
      const check = checkOf(report, "mapped-attributes");
      expect(check.status).toBe("warn");
      expect(check.detail).toBe(
        `Dialpad does not declare ${OFFICE} (user mapping: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User has no attribute officeName); creates and updates that include it may be refused.`,
      );
      expect(check.engineAction).toMatch(/fails as a whole \(SchemaAttributeNotFound/);
      expect(check.detail).not.toContain("emails");
    } finally {
      dialpad.configure({ refuseAttributes: [], hideRefusedAttributes: false });
    }
    // Declared again, the same mapping passes.
    expect(checkOf(await selfTest([OFFICE]), "mapped-attributes").status).toBe("pass");
  });

  test("complex paths are judged by attribute, sub-attribute and value-filter attribute", async () => {
    const report = await selfTest(
      [
        "name.givenName",
        "name.nickname",
        'emails[type eq "work"].value',
        'emails[kind eq "work"].value',
        'addresses[type eq "work"].country',
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:jobCode",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:badge",
        "externalId",
        "jobTitel",
      ],
      ["displayName", "members", "externalId", "owners"],
    );
    const detail = checkOf(report, "mapped-attributes").detail;
    const named = [...detail.matchAll(/does not declare (.+?) \((\w+) mapping: ([^)]*)\);/g)].map(
      ([, target, resource, reason]) => `${resource} ${target}: ${reason}`,
    );
    expect(named).toEqual([
      "user name.nickname: name has no sub-attribute nickname",
      'user emails[kind eq "work"].value: emails has no sub-attribute kind',
      "user urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:jobCode: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User has no attribute jobCode",
      "user urn:example:params:scim:schemas:extension:acme:2.0:User:badge: its schema urn:example:params:scim:schemas:extension:acme:2.0:User is not in /Schemas",
      "user jobTitel: urn:ietf:params:scim:schemas:core:2.0:User has no attribute jobTitel",
      "group owners: urn:ietf:params:scim:schemas:core:2.0:Group has no attribute owners",
    ]);
  });
});

describe("against targets that get things wrong", () => {
  const token = "token-that-must-never-be-shown-0123456789";

  /**
   * A target with the classic mistakes: filters ignored, plain-text 404 (echoing the token), capitalised
   * PATCH ops refused, "False" accepted but not applied, count ignored, duplicates accepted, no
   * discovery and no rate-limit headers.
   */
  function sloppyTarget() {
    const users = new Map<string, Record<string, unknown>>();
    let nextId = 1;
    const scimUser = (user: Record<string, unknown>) => ({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      ...user,
    });
    const notFound = (response: ServerResponse, request: RecordedRequest) => {
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end(`Not Found (${request.headers.authorization ?? ""})`);
    };
    return startTestServer((request, response) => {
      const url = new URL(request.url, "http://target");
      const path = url.pathname.replace(/^\/scim/, "");
      const idMatch = /^\/Users\/([^/]+)$/.exec(path);
      if (path === "/ServiceProviderConfig")
        return sendScim(response, 200, { patch: { supported: false }, filter: { supported: true } });
      if (path === "/Groups") {
        return sendScim(response, 400, {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
          status: "400",
          scimType: "invalidFilter",
          detail: "groups cannot be filtered",
        });
      }
      if (path === "/Users" && request.method === "GET") {
        const everyone = [
          { id: "seed-1", userName: "a@contoso.example" },
          { id: "seed-2", userName: "b@contoso.example" },
          ...users.values(),
        ].map(scimUser);
        return sendScim(response, 200, listResponse(everyone));
      }
      if (path === "/Users" && request.method === "POST") {
        const body = JSON.parse(request.body) as Record<string, unknown>;
        const id = `u-${nextId++}`;
        users.set(id, { ...body, id });
        return sendScim(response, 201, scimUser(users.get(id)!));
      }
      if (idMatch) {
        const user = users.get(idMatch[1]!);
        if (!user) return notFound(response, request);
        if (request.method === "GET") return sendScim(response, 200, scimUser(user));
        if (request.method === "DELETE") {
          users.delete(idMatch[1]!);
          response.writeHead(204).end();
          return;
        }
        if (request.method === "PATCH") {
          const [operation] = (JSON.parse(request.body) as { Operations: Record<string, unknown>[] })
            .Operations;
          if (operation?.op !== "replace" && operation?.op !== "Replace") throw new Error("unexpected op");
          if (operation.op === "Replace" && operation.path !== "active") {
            return sendScim(response, 400, {
              schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
              status: "400",
              detail: "unknown op Replace",
            });
          }
          if (operation.path === "name.givenName") user.name = { givenName: operation.value };
          // "False" is a non-empty string, so this target's truthiness check keeps the user active.
          if (operation.path === "active") user.active = Boolean(operation.value);
          response.writeHead(204).end();
          return;
        }
      }
      return notFound(response, request);
    });
  }

  test("each mistake is reported with the right status and cleaned up after", async () => {
    const target = await sloppyTarget();
    try {
      const report = await runScimSelfTest({
        baseUrl: `${target.url}/scim`,
        token,
        userMatchingAttributes: ["userName"],
        groupMatchingAttributes: ["displayName"],
        createTemporaryUser: true,
      });
      expect(statuses(report)).toEqual({
        "service-provider-config": "warn",
        schemas: "warn",
        "mapped-attributes": "skipped",
        "filter-users:userName": "fail",
        "filter-groups:displayName": "fail",
        "filter-escaping": "fail",
        "error-404": "fail",
        "create-user": "pass",
        // The target ignores filters, so the temporary user comes back among others.
        "filter-finds-user": "fail",
        pagination: "warn",
        "patch-op-casing": "fail",
        "patch-boolean": "warn",
        "error-409": "fail",
        "delete-user": "pass",
        "rate-limit-headers": "warn",
      });
      expect(checkOf(report, "filter-users:userName").detail).toMatch(
        /2 user\(s\) returned .* for a random value no one has/,
      );
      expect(checkOf(report, "filter-groups:displayName").detail).toMatch(
        /HTTP 400: BadRequest, groups cannot/,
      );
      const notFound = checkOf(report, "error-404");
      expect(notFound.detail).toMatch(/"Not Found \(Bearer \[redacted\]\)" \(text\/plain\), not an RFC 7644/);
      expect(notFound.engineAction).toMatch(/still goes by the 404 status/);
      expect(checkOf(report, "patch-op-casing").engineAction).toMatch(/would fail with BadRequest/);
      expect(checkOf(report, "patch-boolean").engineAction).toMatch(
        /accepted the string "False" but left the user active/,
      );
      expect(checkOf(report, "filter-finds-user").engineAction).toMatch(/DuplicateTargetEntries/);
      expect(checkOf(report, "error-409").detail).toMatch(/a second user .* was created \(id u-2/);
      expect(checkOf(report, "pagination").detail).toMatch(/count=1 returned \d+ users/);
      expect(checkOf(report, "rate-limit-headers").detail).toMatch(/None of the \d+ responses/);
      // Both the temporary user and the duplicate the target wrongly created were deleted.
      const deletes = target.requests.filter((r) => r.method === "DELETE").map((r) => r.url);
      expect(deletes).toEqual(["/scim/Users/u-1", "/scim/Users/u-2"]);
      expect(report.temporaryUser).toMatchObject({ created: true, deleted: true, id: "u-1" });
      expect(JSON.stringify(report)).not.toContain(token);
    } finally {
      await target.close();
    }
  });

  test("a rejected token fails the first check and sends nothing else but the clean-up check", async () => {
    const target = await startTestServer((_request, response) =>
      sendScim(response, 401, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "401",
        detail: "bad key",
      }),
    );
    try {
      const report = await runScimSelfTest({
        baseUrl: `${target.url}/scim`,
        token,
        userMatchingAttributes: ["userName"],
        groupMatchingAttributes: [],
        createTemporaryUser: true,
      });
      expect(checkOf(report, "service-provider-config")).toMatchObject({ status: "fail" });
      expect(checkOf(report, "service-provider-config").engineAction).toMatch(/API key/);
      const rest = report.checks.filter(
        (check) => !["service-provider-config", "delete-user", "rate-limit-headers"].includes(check.id),
      );
      expect(rest.map((check) => check.status)).toEqual(rest.map(() => "skipped"));
      expect(checkOf(report, "create-user").detail).toMatch(/Unauthorized/);
      expect(target.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /scim/ServiceProviderConfig"]);
      expect(report.summary).toMatchObject({ fail: 1, pass: 0 });
    } finally {
      await target.close();
    }
  });

  test("without consent nothing is written", async () => {
    const target = await startTestServer((request, response) => {
      if (request.url.startsWith("/scim/Users?")) return sendScim(response, 200, listResponse([]));
      sendScim(response, 404, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "404",
        detail: "no such resource",
      });
    });
    try {
      const report = await runScimSelfTest({
        baseUrl: `${target.url}/scim`,
        token,
        userMatchingAttributes: ["userName"],
        groupMatchingAttributes: [],
        createTemporaryUser: false,
      });
      expect(target.requests.every((r) => r.method === "GET")).toBe(true);
      expect(checkOf(report, "filter-users:userName").status).toBe("pass");
      expect(checkOf(report, "error-404").status).toBe("pass");
      for (const id of ["create-user", "patch-op-casing", "patch-boolean", "error-409", "pagination"])
        expect(checkOf(report, id)).toMatchObject({
          status: "skipped",
          detail: expect.stringMatching(/not allowed/),
        });
      expect(report.temporaryUser).toBeNull();
    } finally {
      await target.close();
    }
  });

  test("a create that times out after the target stored the user is still cleaned up", async () => {
    const users = new Map<string, { id: string; userName: string }>();
    const target = await startTestServer(async (request, response) => {
      const url = new URL(request.url, "http://target");
      if (request.method === "POST") {
        const body = JSON.parse(request.body) as { userName: string };
        users.set("slow-1", { id: "slow-1", userName: body.userName });
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        return sendScim(response, 201, { ...users.get("slow-1"), schemas: [] });
      }
      if (request.method === "GET" && url.pathname === "/scim/Users") {
        const filter = url.searchParams.get("filter") ?? "";
        const matches = [...users.values()].filter((user) => filter.includes(`"${user.userName}"`));
        return sendScim(response, 200, listResponse(matches));
      }
      if (request.method === "DELETE" && users.delete(url.pathname.split("/").pop()!)) {
        response.writeHead(204).end();
        return;
      }
      sendScim(response, 404, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "404",
        detail: "not found",
      });
    });
    try {
      const report = await runScimSelfTest({
        baseUrl: `${target.url}/scim`,
        token,
        userMatchingAttributes: ["userName"],
        groupMatchingAttributes: [],
        createTemporaryUser: true,
        timeoutMs: 500,
      });
      expect(checkOf(report, "create-user")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/Timeout/),
      });
      const cleanup = checkOf(report, "delete-user");
      expect(cleanup.status).toBe("pass");
      expect(cleanup.detail).toMatch(/1 leftover user/);
      expect(users.size).toBe(0);
      expect(target.requests.filter((r) => r.method === "POST")).toHaveLength(1);
      expect(report.temporaryUser).toMatchObject({ created: true, deleted: true });
    } finally {
      await target.close();
    }
  });
});
