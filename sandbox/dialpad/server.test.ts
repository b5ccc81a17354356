import https from "node:https";
import { generate } from "selfsigned";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ERROR_SCHEMA as ERROR } from "./errors";
import { SANDBOX_DIALPAD_KEY, startDialpadEmulator, type RunningDialpadEmulator } from "./server";
import { groupBody, patchBody, scimClient, startQuiet, userBody, type Body, type Scim } from "./testing";
import { CORE_GROUP, CORE_USER, DIALPAD_USER, ENTERPRISE_USER } from "./urns";

async function admin(
  emu: RunningDialpadEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("authentication", () => {
  let emu: RunningDialpadEmulator;
  beforeAll(async () => {
    emu = await startQuiet({
      apiKeys: [
        { key: SANDBOX_DIALPAD_KEY },
        { key: "old-key-0123456789", name: "Entra (2025)", expiresAt: new Date("2025-01-01T00:00:00Z") },
      ],
    });
  });
  afterAll(() => emu.close());

  test("no key → 401 SCIM error with a Bearer challenge", async () => {
    const res = await scimClient(emu, null)("GET", "/Users");
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: "401" });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  test("wrong key → 401 without echoing the key", async () => {
    const res = await scimClient(emu, "not-the-key-secret-value")("GET", "/Users");
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain("not-the-key-secret-value");
    expect(
      (await scimClient(emu)("GET", "/Users", undefined, { Authorization: `Basic ${SANDBOX_DIALPAD_KEY}` }))
        .status,
    ).toBe(401);
  });

  test("expired key → 401 saying it expired", async () => {
    const res = await scimClient(emu, "old-key-0123456789")("GET", "/Users");
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/expired/);
    expect(res.body.detail).not.toContain("old-key-0123456789");
  });

  test("?apikey= works as Dialpad allows, and the log redacts it", async () => {
    const res = await fetch(`${emu.url}/scim/Users?apikey=${SANDBOX_DIALPAD_KEY}`);
    expect(res.status).toBe(200);
    const last = emu.requests.at(-1);
    expect(last?.query.apikey).toBe("[redacted]");
    expect(JSON.stringify(emu.requests)).not.toContain(SANDBOX_DIALPAD_KEY);
  });

  test("POST /_sandbox/keys adds a key (with expiry) and does not echo it", async () => {
    const added = await admin(emu, "POST", "/_sandbox/keys", { key: "fresh-key-abcdefgh", name: "CI" });
    expect(added.status).toBe(201);
    expect(JSON.stringify(added.body)).not.toContain("fresh-key-abcdefgh");
    expect((await scimClient(emu, "fresh-key-abcdefgh")("GET", "/Users")).status).toBe(200);
    await admin(emu, "POST", "/_sandbox/keys", {
      key: "stale-key-abcdefgh",
      expiresAt: "2020-01-01T00:00:00Z",
    });
    const stale = await scimClient(emu, "stale-key-abcdefgh")("GET", "/Users");
    expect(stale.status).toBe(401);
    expect(stale.body.detail).toMatch(/expired/);
    const state = await admin(emu, "GET", "/_sandbox/state");
    expect(JSON.stringify(state.body)).not.toContain("fresh-key-abcdefgh");
    expect(state.body.keys).toContainEqual({ name: "CI", expiresAt: null, expired: false });
  });
});

describe("Dialpad REST offices (read by the pre-flight check)", () => {
  test("lists the company's offices with the same API key; no key is 401", async () => {
    const emu = await startQuiet({ offices: ["Head Office", "Lisbon"] });
    try {
      const listed = await fetch(`${emu.url}/api/v2/offices`, {
        headers: { Authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` },
      });
      expect(listed.status).toBe(200);
      const body = (await listed.json()) as { items: { name: string; is_primary_office: boolean }[] };
      expect(body.items.map((office) => [office.name, office.is_primary_office])).toEqual([
        ["Head Office", true],
        ["Lisbon", false],
      ]);
      expect((await fetch(`${emu.url}/api/v2/offices`)).status).toBe(401);
    } finally {
      await emu.close();
    }
  });
});

describe("discovery", () => {
  let emu: RunningDialpadEmulator;
  let scim: Scim;
  beforeAll(async () => {
    emu = await startQuiet();
    scim = scimClient(emu);
  });
  afterAll(() => emu.close());

  test("ServiceProviderConfig states what the emulator supports", async () => {
    const res = await scim("GET", "/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/scim+json");
    expect(res.body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 100 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
    });
    expect(res.body.authenticationSchemes[0]).toMatchObject({ type: "oauthbearertoken", primary: true });
  });

  test("Schemas lists core User, enterprise User, Group and the Dialpad extension", async () => {
    const res = await scim("GET", "/Schemas");
    expect(res.body.totalResults).toBe(4);
    expect(res.body.Resources.map((s: { id: string }) => s.id).sort()).toEqual(
      [CORE_GROUP, CORE_USER, DIALPAD_USER, ENTERPRISE_USER].sort(),
    );
    const enterprise = await scim("GET", `/Schemas/${ENTERPRISE_USER}`);
    const names = enterprise.body.attributes.map((a: { name: string }) => a.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "department",
        "manager",
        "officeName",
        "physicalDeliveryOfficeName",
        "licenseType",
      ]),
    );
    const user = (await scim("GET", `/Schemas/${CORE_USER}`)).body;
    expect(user.attributes.find((a: { name: string }) => a.name === "userName")).toMatchObject({
      required: true,
      uniqueness: "server",
      caseExact: false,
    });
    const dialpad = (await scim("GET", `/Schemas/${DIALPAD_USER}`)).body;
    expect(dialpad.attributes.every((a: { mutability: string }) => a.mutability === "readOnly")).toBe(true);
    expect((await scim("GET", "/Schemas/urn:nope")).status).toBe(404);
  });

  test("ResourceTypes lists User (with extensions) and Group", async () => {
    const res = await scim("GET", "/ResourceTypes");
    expect(res.body.Resources).toEqual([
      expect.objectContaining({
        id: "User",
        endpoint: "/Users",
        schema: CORE_USER,
        schemaExtensions: [
          { schema: ENTERPRISE_USER, required: false },
          { schema: DIALPAD_USER, required: false },
        ],
      }),
      expect.objectContaining({ id: "Group", endpoint: "/Groups", schema: CORE_GROUP }),
    ]);
  });

  test("Bulk is 501, unknown endpoints 404, wrong methods 405, all as SCIM errors", async () => {
    expect((await scim("POST", "/Bulk", { schemas: [] })).body).toMatchObject({
      schemas: [ERROR],
      status: "501",
    });
    expect((await scim("GET", "/Devices")).body).toMatchObject({ schemas: [ERROR], status: "404" });
    const wrong = await scim("DELETE", "/Users");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, POST");
  });
});

describe("rate limiting", () => {
  let emu: RunningDialpadEmulator | undefined;
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  test("default budget is 20 requests per second: a burst of 30 gets 429s with Retry-After", async () => {
    emu = await startDialpadEmulator();
    const scim = scimClient(emu);
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => scim("GET", "/ServiceProviderConfig")),
    );
    const ok = replies.filter((r) => r.status === 200);
    const throttled = replies.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(20);
    expect(ok.length).toBeLessThanOrEqual(21);
    expect(throttled.length).toBe(30 - ok.length);
    expect(ok[0]?.headers.get("x-ratelimit-limit")).toBe("20");
    for (const r of throttled) {
      expect(r.body).toMatchObject({ schemas: [ERROR], status: "429" });
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    }
  });

  test("throttled requests change nothing, and the budget refills", async () => {
    emu = await startDialpadEmulator({ rateLimit: { requestsPerSecond: 0.5, burst: 3 } });
    const scim = scimClient(emu);
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => scim("POST", "/Users", userBody(`burst${i}@example.com`))),
    );
    const created = replies.filter((r) => r.status === 201);
    expect(created).toHaveLength(3);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(5);
    expect(emu.company.users.size).toBe(3);
    expect(Number(replies.find((r) => r.status === 429)?.headers.get("retry-after"))).toBe(2);
    expect(emu.requests.filter((r) => r.status === 429)).toHaveLength(5);

    emu.configure({ rateLimit: { requestsPerSecond: 1000 } });
    expect((await scim("POST", "/Users", userBody("later@example.com"))).status).toBe(201);
    emu.configure({ rateLimit: null });
    const many = await Promise.all(Array.from({ length: 50 }, () => scim("GET", "/ServiceProviderConfig")));
    expect(many.every((r) => r.status === 200)).toBe(true);
  });
});

describe("fault knobs and request log", () => {
  let emu: RunningDialpadEmulator;
  let scim: Scim;
  beforeAll(async () => {
    emu = await startQuiet();
    scim = scimClient(emu);
  });
  afterAll(() => emu.close());
  beforeEach(async () => {
    emu.configure({ latencyMs: 0, errorRate: 0, burst5xx: 0 });
    expect((await admin(emu, "POST", "/_sandbox/reset")).status).toBe(204);
  });

  test("latencyMs delays every response", async () => {
    emu.configure({ latencyMs: 150 });
    const started = performance.now();
    expect((await scim("GET", "/ServiceProviderConfig")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(emu.requests.at(-1)?.durationMs).toBeGreaterThanOrEqual(140);
  });

  test("errorRate 1 answers 500 InternalServerError bodies, and the write does not happen", async () => {
    emu.configure({ errorRate: 1 });
    const res = await scim("POST", "/Users", userBody("e@example.com"));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: "500" });
    expect(emu.company.users.size).toBe(0);
    emu.configure({ errorRate: 0 });
    expect((await scim("POST", "/Users", userBody("e@example.com"))).status).toBe(201);
  });

  test("burst5xx answers the next N requests with 503, then recovers", async () => {
    emu.configure({ burst5xx: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await scim("POST", "/Users", userBody(`b${i}@example.com`))).status);
    expect(statuses).toEqual([503, 503, 201]);
    expect([...emu.company.users.values()].map((u) => u.attributes.userName)).toEqual(["b2@example.com"]);
  });

  test("PUT /_sandbox/config sets the knobs; bad values are 400", async () => {
    const set = await admin(emu, "PUT", "/_sandbox/config", { burst5xx: 1 });
    expect(set.body.burst5xxRemaining).toBe(1);
    expect((await scim("GET", "/Users")).status).toBe(503);
    expect((await scim("GET", "/Users")).status).toBe(200);
    expect((await admin(emu, "PUT", "/_sandbox/config", { errorRate: 2 })).status).toBe(400);
    expect(() => emu.configure({ errorRate: -1 })).toThrow();
  });

  test("the request log records method, path, query, body, status and duration; it can be cleared", async () => {
    const created = await scim("POST", "/Users", userBody("log@example.com"));
    await scim(
      "PATCH",
      `/Users/${created.body.id}`,
      patchBody({ op: "Replace", path: "active", value: "False" }),
    );
    await scim("GET", "/Users?filter=userName%20eq%20%22log%40example.com%22");
    await scim("GET", "/Users/missing");
    expect(emu.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "POST /scim/Users 201",
      `PATCH /scim/Users/${created.body.id} 200`,
      "GET /scim/Users 200",
      "GET /scim/Users/missing 404",
    ]);
    const [post, patch, get] = emu.requests;
    expect(post?.body).toMatchObject({ userName: "log@example.com" });
    expect(patch?.body).toMatchObject({ Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(get?.query).toEqual({ filter: 'userName eq "log@example.com"' });
    expect(get?.body).toBeUndefined();
    expect(Date.parse(post?.at ?? "")).not.toBeNaN();
    expect(typeof post?.durationMs).toBe("number");

    const viaHttp = await admin(emu, "GET", "/_sandbox/requests?last=1");
    expect(viaHttp.body.total).toBe(4);
    expect(viaHttp.body.requests).toHaveLength(1);
    expect(viaHttp.body.requests[0].path).toBe("/scim/Users/missing");
    expect((await admin(emu, "DELETE", "/_sandbox/requests")).status).toBe(204);
    expect(emu.requests).toHaveLength(0);
  });

  test("/_sandbox/state summarises users, groups, offices and seats; reset empties the company", async () => {
    const a = emu.company.createUser(
      userBody("s1@example.com", { [ENTERPRISE_USER]: { officeName: "London" } }),
    );
    emu.company.createUser(userBody("s2@example.com", { active: "False" }));
    emu.company.createGroup(groupBody("G", { members: [{ value: a.id }] }));
    const state = (await admin(emu, "GET", "/_sandbox/state")).body;
    expect(state).toMatchObject({
      users: 2,
      activeUsers: 1,
      suspendedUsers: 1,
      groups: 1,
      seats: { used: 1 },
    });
    expect(state.offices.map((o: { name: string; users: number }) => [o.name, o.users])).toEqual([
      ["San Francisco", 1],
      ["New York", 0],
      ["London", 1],
      ["Vancouver", 0],
    ]);
    await admin(emu, "POST", "/_sandbox/reset");
    expect((await admin(emu, "GET", "/_sandbox/state")).body).toMatchObject({ users: 0, groups: 0 });
  });
});

describe("refuseAttributes: a strict server that does not support an attribute", () => {
  const OFFICE = `${ENTERPRISE_USER}:officeName`;
  let emu: RunningDialpadEmulator;
  let scim: Scim;
  beforeAll(async () => {
    emu = await startQuiet();
    scim = scimClient(emu);
  });
  afterAll(() => emu.close());
  beforeEach(async () => {
    emu.configure({ refuseAttributes: [OFFICE], hideRefusedAttributes: false });
    expect((await admin(emu, "POST", "/_sandbox/reset")).status).toBe(204);
  });

  async function createPlainUser(userName: string) {
    const created = await scim("POST", "/Users", userBody(userName));
    expect(created.status).toBe(201);
    return created.body as Body;
  }

  test("a POST carrying the attribute is 400 invalidValue naming it, and no user is created", async () => {
    const res = await scim(
      "POST",
      "/Users",
      userBody("strict@example.com", { [ENTERPRISE_USER]: { officeName: "London", department: "Sales" } }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      schemas: [ERROR],
      status: "400",
      scimType: "invalidValue",
      detail: `The attribute '${ENTERPRISE_USER}:officeName' is not supported by this server`,
    });
    expect(emu.company.users.size).toBe(0);
    // Without it the same user is created: only the attribute is refused.
    expect((await scim("POST", "/Users", userBody("strict@example.com"))).status).toBe(201);
  });

  test("a PATCH with a path to it is 400 invalidPath, and the other operations are not applied", async () => {
    const user = await createPlainUser("patch@example.com");
    const res = await scim(
      "PATCH",
      `/Users/${user.id}`,
      patchBody(
        { op: "replace", path: "title", value: "Engineer" },
        { op: "replace", path: OFFICE, value: "London" },
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: "400", scimType: "invalidPath" });
    expect(res.body.detail).toContain(OFFICE);
    const after = await scim("GET", `/Users/${user.id}`);
    expect(after.body.title).toBeUndefined();
    expect(after.body.meta.version).toBe(user.meta.version);
  });

  test("a path-less PATCH (Entra's form) and one on the extension object are refused too", async () => {
    const user = await createPlainUser("pathless@example.com");
    const pathless = await scim(
      "PATCH",
      `/Users/${user.id}`,
      patchBody({ op: "Replace", value: { title: "Lead", [OFFICE]: "London" } }),
    );
    expect(pathless.status).toBe(400);
    expect(pathless.body.scimType).toBe("invalidPath");
    const extension = await scim(
      "PATCH",
      `/Users/${user.id}`,
      patchBody({ op: "add", path: ENTERPRISE_USER, value: { officeName: "London" } }),
    );
    expect(extension.status).toBe(400);
    expect(extension.body.scimType).toBe("invalidValue");
    expect((await scim("GET", `/Users/${user.id}`)).body.title).toBeUndefined();
  });

  test("a PUT carrying it is refused and the stored user is unchanged", async () => {
    const user = await createPlainUser("put@example.com");
    const res = await scim(
      "PUT",
      `/Users/${user.id}`,
      userBody("put@example.com", { title: "Changed", [ENTERPRISE_USER]: { officeName: "London" } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe("invalidValue");
    expect((await scim("GET", `/Users/${user.id}`)).body.title).toBeUndefined();
  });

  test("sub-attributes: refusing name.givenName refuses it in a body and in a path, not name.familyName", async () => {
    emu.configure({ refuseAttributes: ["name.givenName"] });
    expect((await scim("POST", "/Users", userBody("given@example.com"))).status).toBe(400);
    const user = await scim(
      "POST",
      "/Users",
      userBody("family@example.com", { name: { familyName: "Only" } }),
    );
    expect(user.status).toBe(201);
    const patch = await scim(
      "PATCH",
      `/Users/${user.body.id}`,
      patchBody({ op: "replace", path: "name.givenName", value: "X" }),
    );
    expect(patch.body.scimType).toBe("invalidPath");
    const ok = await scim(
      "PATCH",
      `/Users/${user.body.id}`,
      patchBody({ op: "replace", path: "name.familyName", value: "Other" }),
    );
    expect(ok.status).toBe(200);
  });

  test("/Schemas still declares a refused attribute until hideRefusedAttributes leaves it out", async () => {
    const declared = async () => {
      const res = await scim("GET", `/Schemas/${ENTERPRISE_USER}`);
      return (res.body.attributes as { name: string }[]).map((attribute) => attribute.name);
    };
    expect(await declared()).toContain("officeName");
    emu.configure({ hideRefusedAttributes: true });
    expect(await declared()).not.toContain("officeName");
    expect(await declared()).toContain("department");
    const list = await scim("GET", "/Schemas");
    const enterprise = list.body.Resources.find((schema: Body) => schema.id === ENTERPRISE_USER);
    expect(enterprise.attributes.map((attribute: Body) => attribute.name)).not.toContain("officeName");
  });

  test("the knob is readable and settable over /_sandbox/config, and an empty list turns it off", async () => {
    const set = await admin(emu, "PUT", "/_sandbox/config", {
      refuseAttributes: ["title"],
      hideRefusedAttributes: true,
    });
    expect(set.body).toMatchObject({ refuseAttributes: ["title"], hideRefusedAttributes: true });
    expect((await scim("POST", "/Users", userBody("t@example.com", { title: "x" }))).status).toBe(400);
    emu.configure({ refuseAttributes: [] });
    expect((await scim("POST", "/Users", userBody("t@example.com", { title: "x" }))).status).toBe(201);
  });
});

describe("HTML page", () => {
  test("lists users and groups with every value escaped", async () => {
    const emu = await startQuiet({ offices: ["Berlin & Co", "London"] });
    try {
      const evil = "<img src=x onerror=alert(1)>";
      const u = emu.company.createUser(userBody("evil@example.com", { displayName: evil }));
      emu.company.createUser(
        userBody("gone@example.com", { active: false, name: { givenName: "Sus", familyName: "Pended" } }),
      );
      emu.company.createGroup(groupBody("<script>alert(2)</script>", { members: [{ value: u.id }] }));
      const res = await fetch(`${emu.url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      const html = await res.text();
      expect(html).not.toContain("<img src=x");
      expect(html).not.toContain("<script>");
      expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
      expect(html).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
      expect(html).toContain("Berlin &amp; Co");
      expect(html).toContain("evil@example.com");
      expect(html).toContain("Sus Pended");
      expect(html).toContain("suspended");
      expect(html).toContain(u.dialpadNumber ?? "missing number");
    } finally {
      await emu.close();
    }
  });
});

describe("TLS", () => {
  test("serves HTTPS on localhost when given a certificate", async () => {
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keySize: 2048,
      extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }] }],
    });
    const emu = await startDialpadEmulator({ tls: { cert: pems.cert, key: pems.private }, rateLimit: null });
    try {
      expect(emu.url).toBe(`https://localhost:${emu.port}`);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(
            `${emu.url}/scim/ServiceProviderConfig`,
            { ca: pems.cert, headers: { Authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` } },
            (res) => {
              let text = "";
              res.on("data", (chunk: Buffer) => (text += chunk.toString()));
              res.on("end", () => resolve(text));
            },
          )
          .on("error", reject);
      });
      expect(JSON.parse(body).meta.location).toBe(`https://localhost:${emu.port}/scim/ServiceProviderConfig`);
    } finally {
      await emu.close();
    }
  });
});
