/**
 * The SCIM client against the sandbox Dialpad emulator, doing what a provisioning cycle does.
 * The emulator's own behaviour is tested in sandbox/dialpad.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SANDBOX_DIALPAD_KEY, startDialpadEmulator } from "../../sandbox/dialpad/server";
import { createAdaptiveLimiter } from "./adaptive-limiter";
import { createScimClient, expectSingleMatch, type ScimClientOptions, type ScimExchange } from "./client";
import { ScimError } from "./errors";
import { and, eq } from "./filter";
import { SCIM_SCHEMAS } from "./schemas";

let emulator: Awaited<ReturnType<typeof startDialpadEmulator>>;

beforeAll(async () => {
  emulator = await startDialpadEmulator({ port: 0, rateLimit: null });
});
afterAll(async () => {
  await emulator?.close();
});

function dialpad(overrides: Partial<ScimClientOptions> = {}) {
  return createScimClient({
    baseUrl: `${emulator.url}/scim`,
    token: SANDBOX_DIALPAD_KEY,
    retryPolicy: { baseDelayMs: 10, maxDelayMs: 100 },
    ...overrides,
  });
}

const newUser = (userName: string, externalId: string) => ({
  schemas: [SCIM_SCHEMAS.user, SCIM_SCHEMAS.enterpriseUser],
  externalId,
  userName,
  active: true,
  name: { givenName: "Zoë", familyName: "Ångström" },
  emails: [{ primary: true, type: "work", value: userName }],
});

async function failure(promise: Promise<unknown>): Promise<ScimError> {
  const error = await promise.catch((e: unknown) => e);
  if (!(error instanceof ScimError)) throw new Error(`expected a ScimError, got ${String(error)}`);
  return error;
}

describe("Dialpad emulator", () => {
  test("Test Connection succeeds with the sandbox key and explains a wrong one", async () => {
    expect(await dialpad().testConnection()).toMatchObject({ ok: true });
    const rejected = await dialpad({ token: "dpsbx_not-a-real-key-000000000000" }).testConnection();
    expect(rejected).toMatchObject({ ok: false, status: 401 });
    expect(rejected.message).toMatch(/secret token was rejected \(HTTP 401\)/);
    expect(JSON.stringify(rejected)).not.toContain("dpsbx_not-a-real-key");
  });

  test("a wrong tenant URL is explained", async () => {
    const result = await createScimClient({
      baseUrl: `${emulator.url}/not-scim`,
      token: SANDBOX_DIALPAD_KEY,
    }).testConnection();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/not found \(HTTP 404\)|web page|not a SCIM/);
  });

  test("user lifecycle: match, create, match again, disable, delete, then InvalidAnchor", async () => {
    const client = dialpad();
    const match = and(eq("externalId", "ext-zoe-1"));
    expect(await client.findUsers(match)).toEqual([]);
    const created = await client.createUser(newUser("zoe.lifecycle@contoso.example", "ext-zoe-1"));
    expect(created.id).toBeTruthy();
    const matched = expectSingleMatch(
      await client.findUsers(eq("userName", "zoe.lifecycle@contoso.example")),
    );
    expect(matched?.id).toBe(created.id);
    await client.patchUser(created.id, [{ op: "Replace", path: "active", value: false }]);
    expect((await client.getUser(created.id)).active).toBe(false);
    await client.deleteUser(created.id);
    expect((await failure(client.getUser(created.id))).code).toBe("InvalidAnchor");
  });

  test("a duplicate userName is an EntryConflict", async () => {
    const client = dialpad();
    await client.createUser(newUser("dup@contoso.example", "dup-1"));
    const error = await failure(client.createUser(newUser("DUP@contoso.example", "dup-2")));
    expect(error).toMatchObject({ code: "EntryConflict", status: 409, scimType: "uniqueness" });
  });

  test("groups: create, add a member, read without members, refuse a rename", async () => {
    const client = dialpad();
    const member = await client.createUser(newUser("member@contoso.example", "member-1"));
    const group = await client.createGroup({
      schemas: [SCIM_SCHEMAS.group],
      externalId: "grp-1",
      displayName: "Sales EMEA",
    });
    await client.patchGroup(group.id, [{ op: "Add", path: "members", value: [{ value: member.id }] }]);
    const read = await client.getGroup(group.id, { excludeMembers: true });
    expect(read.members).toBeUndefined();
    expect((await client.getGroup(group.id, { excludeMembers: false })).members?.map((m) => m.value)).toEqual(
      [member.id],
    );
    expect((await client.findGroups(eq("displayName", "Sales EMEA"))).map((g) => g.id)).toEqual([group.id]);
    const rename = await failure(
      client.patchGroup(group.id, [{ op: "Replace", path: "displayName", value: "Sales" }]),
    );
    expect(rename).toMatchObject({ status: 400, scimType: "mutability" });
    await client.deleteGroup(group.id);
  });

  test("discovery endpoints parse", async () => {
    const client = dialpad();
    expect((await client.getServiceProviderConfig()).patch?.supported).toBe(true);
    expect((await client.getResourceTypes()).Resources.map((type) => type.name)).toContain("User");
    expect((await client.getSchemas()).Resources.map((schema) => schema.id)).toContain(SCIM_SCHEMAS.user);
    const page = await client.listUsers({ startIndex: 1, count: 2 });
    expect(page.Resources.length).toBeLessThanOrEqual(2);
    expect(page.totalResults).toBeGreaterThanOrEqual(page.Resources.length);
  });

  test("under Dialpad's rate limit, the adaptive limiter and Retry-After get every request through", async () => {
    emulator.configure({ rateLimit: { requestsPerSecond: 10, burst: 2 } });
    try {
      const limiter = createAdaptiveLimiter({ ratePerSecond: 30, burst: 10 });
      const exchanges: ScimExchange[] = [];
      const client = dialpad({ limiter, onExchange: (exchange) => exchanges.push(exchange) });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => client.findUsers(eq("userName", `nobody-${i}@contoso.example`))),
      );
      expect(results.every((list) => list.length === 0)).toBe(true);
      expect(exchanges.some((exchange) => exchange.status === 429)).toBe(true);
      expect(limiter.stats().throttledCount).toBeGreaterThan(0);
      expect(limiter.stats().ratePerSecond).toBeLessThan(30);
      expect(JSON.stringify(exchanges)).not.toContain(SANDBOX_DIALPAD_KEY);
    } finally {
      emulator.configure({ rateLimit: null });
    }
  });
});
