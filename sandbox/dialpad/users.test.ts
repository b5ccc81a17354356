import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { RunningDialpadEmulator } from "./server";
import { filterQuery, patchBody, scimClient, startQuiet, userBody, type Scim } from "./testing";
import { ERROR_SCHEMA as ERROR } from "./errors";
import { CORE_USER, DIALPAD_USER, ENTERPRISE_USER } from "./urns";

let emu: RunningDialpadEmulator;
let scim: Scim;

beforeAll(async () => {
  emu = await startQuiet();
  scim = scimClient(emu);
});
afterAll(() => emu.close());
beforeEach(() => emu.company.reset());

async function create(userName: string, extra: Record<string, unknown> = {}) {
  const res = await scim("POST", "/Users", userBody(userName, extra));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe("create and read", () => {
  test("POST returns 201 with id, meta, Location and ETag, and stores values as sent", async () => {
    const res = await scim(
      "POST",
      "/Users",
      userBody("Ada.Lovelace@Example.com", { externalId: "ada", title: "  Countess " }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/scim+json");
    const user = res.body;
    expect(user.id).toMatch(/^\d+$/);
    expect(user.userName).toBe("Ada.Lovelace@Example.com");
    expect(user.title).toBe("  Countess ");
    expect(user.meta).toMatchObject({
      resourceType: "User",
      location: `${emu.url}/scim/Users/${user.id}`,
      version: 'W/"1"',
    });
    expect(Date.parse(user.meta.created)).not.toBeNaN();
    expect(res.headers.get("location")).toBe(user.meta.location);
    expect(res.headers.get("etag")).toBe('W/"1"');

    const got = await scim("GET", `/Users/${user.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(user);
  });

  test("duplicate userName (any case) is 409 uniqueness and creates nothing", async () => {
    await create("dup@example.com");
    const res = await scim("POST", "/Users", userBody("DUP@example.com"));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: "409", scimType: "uniqueness" });
    expect(emu.company.users.size).toBe(1);
  });

  test("missing userName, non-email userName and missing core schema are 400", async () => {
    const { userName: _omit, ...noName } = userBody("x@example.com");
    const missing = await scim("POST", "/Users", noName);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status: "400", scimType: "invalidValue" });
    expect((await scim("POST", "/Users", userBody("jdoe"))).body.detail).toMatch(/email/);
    const noSchema = await scim("POST", "/Users", { userName: "y@example.com" });
    expect(noSchema.body).toMatchObject({ status: "400", scimType: "invalidSyntax" });
    expect(emu.company.users.size).toBe(0);
  });

  test("invalid JSON is 400 invalidSyntax; an unsupported media type is 415", async () => {
    expect((await scim("POST", "/Users", "{not json")).body).toMatchObject({
      status: "400",
      scimType: "invalidSyntax",
    });
    const res = await scim("POST", "/Users", JSON.stringify(userBody("t@example.com")), {
      "Content-Type": "text/plain",
    });
    expect(res.status).toBe(415);
    const plainJson = await scim("POST", "/Users", JSON.stringify(userBody("j@example.com")), {
      "Content-Type": "application/json; charset=utf-8",
    });
    expect(plainJson.status).toBe(201);
  });

  test("unknown id is 404 with a SCIM error body", async () => {
    const res = await scim("GET", "/Users/does-not-exist");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: "404" });
    expect(res.body.detail).toContain("does-not-exist");
  });
});

describe("filters", () => {
  test("Entra's test connection (random GUID) gets 200 and an empty ListResponse", async () => {
    const res = await scim(
      "GET",
      `/Users?${filterQuery('userName eq "6f1c1e9a-3c2b-4a57-9d1f-0c8b2f3e4d5a"')}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
      totalResults: 0,
      itemsPerPage: 0,
      startIndex: 1,
      Resources: [],
    });
  });

  test("by userName (case-insensitive), externalId (case-exact), emails.value and typed emails", async () => {
    const a = await create("alice@example.com", {
      externalId: "Alice-1",
      emails: [{ type: "work", value: "Alice@Work.example" }],
    });
    await create("bob@example.com", { externalId: "bob-1" });
    const ids = async (f: string) =>
      ((await scim("GET", `/Users?${filterQuery(f)}`)).body.Resources as { id: string }[]).map((r) => r.id);

    expect(await ids('userName eq "ALICE@example.com"')).toEqual([a.id]);
    expect(await ids('externalId eq "Alice-1"')).toEqual([a.id]);
    expect(await ids('externalId eq "alice-1"')).toEqual([]);
    expect(await ids('emails.value eq "alice@work.example"')).toEqual([a.id]);
    expect(await ids('emails[type eq "work"].value eq "alice@work.example"')).toEqual([a.id]);
    expect(await ids('emails[type eq "home"].value eq "alice@work.example"')).toEqual([]);
    expect(await ids(`id eq "${a.id}"`)).toEqual([a.id]);
    expect(await ids('userName eq "alice@example.com" and externalId eq "Alice-1"')).toEqual([a.id]);
    expect(await ids('userName eq "alice@example.com" and externalId eq "bob-1"')).toEqual([]);
  });

  test("quoted values with escaped quotes match exactly", async () => {
    const u = await create('o"neil@example.com', { externalId: 'x\\"y' });
    const byName = await scim("GET", `/Users?${filterQuery('userName eq "o\\"neil@example.com"')}`);
    expect(byName.body.Resources.map((r: { id: string }) => r.id)).toEqual([u.id]);
    const byExt = await scim("GET", `/Users?${filterQuery('externalId eq "x\\\\\\"y"')}`);
    expect(byExt.body.totalResults).toBe(1);
  });

  test("unsupported operators and attributes are 400 invalidFilter", async () => {
    for (const f of [
      'userName sw "a"',
      'userName eq "a" or userName eq "b"',
      'title eq "x"',
      "externalId eq jyoung",
    ]) {
      const res = await scim("GET", `/Users?${filterQuery(f)}`);
      expect(res.status, f).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: "400", scimType: "invalidFilter" });
    }
  });

  test("suspended users stay filterable", async () => {
    const u = await create("sleepy@example.com");
    await scim("PATCH", `/Users/${u.id}`, patchBody({ op: "Replace", path: "active", value: "False" }));
    const res = await scim("GET", `/Users?${filterQuery('userName eq "sleepy@example.com"')}`);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].active).toBe(false);
  });
});

describe("PATCH", () => {
  test("Entra's capitalised ops on simple, sub-attribute and filtered paths", async () => {
    const u = await create("p@example.com", {
      phoneNumbers: [{ type: "mobile", value: "+1 555 0100" }],
      addresses: [{ type: "work", country: "US", locality: "Austin" }],
    });
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody(
        { op: "Replace", path: "userName", value: "p2@example.com" },
        { op: "Replace", path: "title", value: "Engineer" },
        { op: "Add", path: "displayName", value: "P Two" },
        { op: "Replace", path: "name.givenName", value: "Pat" },
        { op: "Replace", path: 'emails[type eq "work"].value', value: "p2@example.com" },
        { op: "Replace", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555 0199" },
        { op: "Add", path: 'phoneNumbers[type eq "work"].value', value: "+1 555 0111" },
        { op: "Replace", path: 'addresses[type eq "work"].country', value: "CA" },
        { op: "Add", path: `${ENTERPRISE_USER}:department`, value: "Research" },
        { op: "Add", path: `${ENTERPRISE_USER}:manager`, value: [{ $ref: null, value: "m-1" }] },
      ),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const b = res.body;
    expect(b.userName).toBe("p2@example.com");
    expect(b.title).toBe("Engineer");
    expect(b.displayName).toBe("P Two");
    expect(b.name).toEqual({ givenName: "Pat", familyName: "User" });
    expect(b.emails).toEqual([{ primary: true, type: "work", value: "p2@example.com" }]);
    expect(b.phoneNumbers.filter((p: { type: string }) => p.type !== "Dialpad")).toEqual([
      { type: "mobile", value: "+1 555 0199" },
      { type: "work", value: "+1 555 0111" },
    ]);
    expect(b.addresses).toEqual([{ type: "work", country: "CA", locality: "Austin" }]);
    expect(b[ENTERPRISE_USER]).toEqual({ department: "Research", manager: { $ref: null, value: "m-1" } });
    expect(b.meta.version).toBe('W/"2"');
    // The index follows the rename: the old userName no longer matches, the new one does.
    expect(
      (await scim("GET", `/Users?${filterQuery('userName eq "p@example.com"')}`)).body.totalResults,
    ).toBe(0);
    expect(
      (await scim("GET", `/Users?${filterQuery('userName eq "p2@example.com"')}`)).body.totalResults,
    ).toBe(1);
  });

  test("remove in its path forms, lowercase ops", async () => {
    const u = await create("r@example.com", {
      title: "T",
      emails: [
        { type: "work", value: "r@example.com" },
        { type: "other", value: "r@other.example" },
      ],
      [ENTERPRISE_USER]: { department: "Ops", costCenter: "42" },
    });
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody(
        { op: "remove", path: "title" },
        { op: "Remove", path: 'emails[type eq "other"]' },
        { op: "remove", path: "name.familyName" },
        { op: "remove", path: `${ENTERPRISE_USER}:department` },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.title).toBeUndefined();
    expect(res.body.emails).toEqual([{ type: "work", value: "r@example.com" }]);
    expect(res.body.name).toEqual({ givenName: "Test" });
    expect(res.body[ENTERPRISE_USER]).toEqual({ costCenter: "42" });
    const byOther = await scim("GET", `/Users?${filterQuery('emails.value eq "r@other.example"')}`);
    expect(byOther.body.totalResults).toBe(0);
  });

  test("no-path replace with an object value (Entra's aadOptscim062020 mode)", async () => {
    const u = await create("np@example.com");
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({
        op: "replace",
        value: {
          active: false,
          "name.givenName": "Nora",
          displayName: "Nora P",
          [`${ENTERPRISE_USER}:department`]: "Sales",
          'emails[type eq "work"].value': "np@new.example",
        },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      active: false,
      displayName: "Nora P",
      name: { givenName: "Nora", familyName: "User" },
    });
    expect(res.body[ENTERPRISE_USER].department).toBe("Sales");
    expect(res.body.emails[0].value).toBe("np@new.example");
  });

  test('active accepts booleans and the strings "True"/"False"; other values are 400', async () => {
    const u = await create("act@example.com");
    for (const [value, expected] of [
      ["False", false],
      ["True", true],
      [false, false],
      [true, true],
    ] as const) {
      const res = await scim("PATCH", `/Users/${u.id}`, patchBody({ op: "Replace", path: "active", value }));
      expect(res.body.active).toBe(expected);
    }
    const bad = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "Replace", path: "active", value: "maybe" }),
    );
    expect(bad.body).toMatchObject({ status: "400", scimType: "invalidValue" });
  });

  test("replace through a value filter that matches nothing is 400 noTarget and changes nothing", async () => {
    const u = await create("nt@example.com");
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody(
        { op: "Replace", path: "title", value: "Changed" },
        { op: "Replace", path: 'phoneNumbers[type eq "fax"].value', value: "1" },
      ),
    );
    expect(res.body).toMatchObject({ status: "400", scimType: "noTarget" });
    expect((await scim("GET", `/Users/${u.id}`)).body.title).toBeUndefined();
  });

  test("renaming onto another user's userName is 409; a bad op or missing PatchOp schema is 400", async () => {
    await create("taken@example.com");
    const u = await create("free@example.com");
    const clash = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "Replace", path: "userName", value: "TAKEN@example.com" }),
    );
    expect(clash.body).toMatchObject({ status: "409", scimType: "uniqueness" });
    const badOp = await scim("PATCH", `/Users/${u.id}`, patchBody({ op: "Move", path: "title", value: "x" }));
    expect(badOp.body).toMatchObject({ status: "400", scimType: "invalidSyntax" });
    const noSchema = await scim("PATCH", `/Users/${u.id}`, {
      Operations: [{ op: "replace", path: "title", value: "x" }],
    });
    expect(noSchema.status).toBe(400);
    const removeAll = await scim("PATCH", `/Users/${u.id}`, patchBody({ op: "remove" }));
    expect(removeAll.body).toMatchObject({ status: "400", scimType: "noTarget" });
  });

  test("If-Match with a stale ETag is 412", async () => {
    const u = await create("etag@example.com");
    await scim("PATCH", `/Users/${u.id}`, patchBody({ op: "replace", path: "title", value: "A" }));
    const stale = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "replace", path: "title", value: "B" }),
      { "If-Match": 'W/"1"' },
    );
    expect(stale.status).toBe(412);
    const fresh = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "replace", path: "title", value: "B" }),
      { "If-Match": 'W/"2"' },
    );
    expect(fresh.status).toBe(200);
  });
});

describe("PUT and DELETE", () => {
  test("PUT replaces the attributes but keeps id, office and the Dialpad number", async () => {
    const u = await create("put@example.com", { title: "Old", [ENTERPRISE_USER]: { officeName: "London" } });
    const res = await scim("PUT", `/Users/${u.id}`, {
      schemas: [CORE_USER],
      id: "ignored",
      userName: "put@example.com",
      displayName: "Replaced",
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(u.id);
    expect(res.body.title).toBeUndefined();
    expect(res.body.displayName).toBe("Replaced");
    expect(res.body.active).toBe(true);
    expect(res.body[DIALPAD_USER].officeName).toBe("London");
    expect(res.body.phoneNumbers).toEqual(u.phoneNumbers);
  });

  test("DELETE is 204, then GET is 404 and the userName is free again", async () => {
    const u = await create("gone@example.com");
    const del = await scim("DELETE", `/Users/${u.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect((await scim("GET", `/Users/${u.id}`)).status).toBe(404);
    expect((await scim("DELETE", `/Users/${u.id}`)).status).toBe(404);
    expect(
      (await scim("GET", `/Users?${filterQuery('userName eq "gone@example.com"')}`)).body.totalResults,
    ).toBe(0);
    expect((await scim("POST", "/Users", userBody("gone@example.com"))).status).toBe(201);
  });
});

describe("Dialpad quirks", () => {
  test("active=false suspends: kept, returned, seat freed; reactivation takes the seat back", async () => {
    const u = await create("sus@example.com");
    await create("other@example.com");
    expect(emu.company.seats().used).toBe(2);
    const off = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "Replace", path: "active", value: "False" }),
    );
    expect(off.body.active).toBe(false);
    expect(off.body[DIALPAD_USER].state).toBe("suspended");
    expect(emu.company.seats().used).toBe(1);
    expect((await scim("GET", `/Users/${u.id}`)).status).toBe(200);
    const list = await scim("GET", "/Users");
    expect(list.body.totalResults).toBe(2);
    const on = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "Replace", path: "active", value: "True" }),
    );
    expect(on.body[DIALPAD_USER].state).toBe("active");
    expect(emu.company.seats().used).toBe(2);
    expect(on.body.phoneNumbers).toEqual(u.phoneNumbers);
  });

  test.each([
    [
      "officeName",
      {
        [ENTERPRISE_USER]: {
          officeName: "Vancouver",
          physicalDeliveryOfficeName: "London",
          department: "New York",
        },
      },
      "Vancouver",
    ],
    [
      "physicalDeliveryOfficeName",
      { [ENTERPRISE_USER]: { physicalDeliveryOfficeName: "London", department: "New York" } },
      "London",
    ],
    ["department", { [ENTERPRISE_USER]: { department: "New York" } }, "New York"],
    [
      "an officeName that is not an office falls through",
      { [ENTERPRISE_USER]: { officeName: "Paris", department: "London" } },
      "London",
    ],
    ["names must match exactly", { [ENTERPRISE_USER]: { officeName: "london" } }, "San Francisco"],
    ["country code", { addresses: [{ type: "work", country: "CA" }] }, "Vancouver"],
    ["country name", { addresses: [{ type: "work", country: "United Kingdom" }] }, "London"],
    ["first office of the country", { addresses: [{ type: "work", country: "US" }] }, "San Francisco"],
    [
      "office name beats country",
      { [ENTERPRISE_USER]: { department: "New York" }, addresses: [{ country: "GB" }] },
      "New York",
    ],
    ["unknown country → main office", { addresses: [{ type: "work", country: "FR" }] }, "San Francisco"],
    ["nothing → main office", {}, "San Francisco"],
  ])("office placement: %s", async (_rule, extra, office) => {
    const u = await create("office@example.com", extra);
    expect(u[DIALPAD_USER].officeName).toBe(office);
    expect(u[DIALPAD_USER].officeId).toBe(emu.company.offices.find((o) => o.name === office)?.id);
  });

  test("the office is chosen at creation only", async () => {
    const u = await create("stay@example.com", { [ENTERPRISE_USER]: { department: "London" } });
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "Replace", path: `${ENTERPRISE_USER}:department`, value: "New York" }),
    );
    expect(res.body[DIALPAD_USER].officeName).toBe("London");
  });

  test("a Dialpad number is assigned per office area code, deterministically and uniquely", async () => {
    const sf1 = await create("sf1@example.com");
    const sf2 = await create("sf2@example.com");
    const ny = await create("ny@example.com", { [ENTERPRISE_USER]: { officeName: "New York" } });
    const ldn = await create("ldn@example.com", { [ENTERPRISE_USER]: { officeName: "London" } });
    const dialpad = (u: { phoneNumbers: { type: string; value: string }[] }) =>
      u.phoneNumbers.find((p) => p.type === "Dialpad")?.value;
    expect(dialpad(sf1)).toBe("+14155550000");
    expect(dialpad(sf2)).toBe("+14155550001");
    expect(dialpad(ny)).toBe("+12125550000");
    expect(dialpad(ldn)).toMatch(/^\+4420\d{8}$/);
  });

  test("PATCH and PUT cannot change or remove the Dialpad number; other numbers change normally", async () => {
    const u = await create("num@example.com", { phoneNumbers: [{ type: "mobile", value: "+1 555 0100" }] });
    const original = u.phoneNumbers.find((p: { type: string }) => p.type === "Dialpad");
    expect(original.value).toMatch(/^\+1415/);
    for (const op of [
      { op: "Replace", path: 'phoneNumbers[type eq "Dialpad"].value', value: "+19999999999" },
      { op: "Remove", path: 'phoneNumbers[type eq "Dialpad"]' },
      { op: "Remove", path: "phoneNumbers" },
      { op: "Replace", path: "phoneNumbers", value: [{ type: "work", value: "+1 555 0123" }] },
    ]) {
      const res = await scim("PATCH", `/Users/${u.id}`, patchBody(op));
      expect(res.status).toBe(200);
      expect(
        res.body.phoneNumbers.filter((p: { type: string }) => p.type === "Dialpad"),
        JSON.stringify(op),
      ).toEqual([original]);
    }
    const current = (await scim("GET", `/Users/${u.id}`)).body;
    expect(current.phoneNumbers).toEqual([{ type: "work", value: "+1 555 0123" }, original]);
    const put = await scim(
      "PUT",
      `/Users/${u.id}`,
      userBody("num@example.com", { phoneNumbers: [{ type: "Dialpad", value: "+10000000000" }] }),
    );
    expect(put.body.phoneNumbers).toEqual([original]);
  });

  test("the Dialpad extension is read-only", async () => {
    const u = await create("ro@example.com");
    const res = await scim(
      "PATCH",
      `/Users/${u.id}`,
      patchBody({ op: "replace", path: `${DIALPAD_USER}:officeName`, value: "London" }),
    );
    expect(res.body).toMatchObject({ status: "400", scimType: "mutability" });
    const sneaky = await scim(
      "POST",
      "/Users",
      userBody("ro2@example.com", { [DIALPAD_USER]: { officeName: "London", state: "suspended" } }),
    );
    expect(sneaky.body[DIALPAD_USER]).toMatchObject({ officeName: "San Francisco", state: "active" });
  });

  test("licenseType picks the licence; Dialpad_Support gets no number; unknown licences are 400", async () => {
    const voice = await create("v@example.com");
    expect(voice[DIALPAD_USER].licenseType).toBe("Dialpad_Ai Voice");
    const sales = await create("s@example.com", { [ENTERPRISE_USER]: { licenseType: "Dialpad_Ai Sales" } });
    expect(sales[DIALPAD_USER].licenseType).toBe("Dialpad_Ai Sales");
    const support = await create("cc@example.com", { [ENTERPRISE_USER]: { licenseType: "Dialpad_Support" } });
    expect(support.phoneNumbers).toBeUndefined();
    const bad = await scim(
      "POST",
      "/Users",
      userBody("bad@example.com", { [ENTERPRISE_USER]: { licenseType: "Pro" } }),
    );
    expect(bad.body).toMatchObject({ status: "400", scimType: "invalidValue" });
    expect(emu.company.seats().byLicense).toEqual({
      "Dialpad_Ai Voice": 1,
      "Dialpad_Ai Sales": 1,
      Dialpad_Support: 1,
    });
  });
});

describe("attributes and paging", () => {
  test("attributes and excludedAttributes shape the response; id and schemas always stay", async () => {
    const u = await create("proj@example.com", { title: "T" });
    const only = await scim("GET", `/Users/${u.id}?attributes=userName,name.givenName`);
    expect(only.body).toEqual({
      schemas: u.schemas,
      id: u.id,
      userName: "proj@example.com",
      name: { givenName: "Test" },
    });
    const without = await scim("GET", `/Users/${u.id}?excludedAttributes=title,emails,id,meta`);
    expect(without.body.title).toBeUndefined();
    expect(without.body.emails).toBeUndefined();
    expect(without.body.meta).toBeUndefined();
    expect(without.body.id).toBe(u.id);
  });

  test("startIndex/count page through users; count is capped at 100", async () => {
    for (let i = 0; i < 105; i++) emu.company.createUser(userBody(`page${i}@example.com`));
    const first = await scim("GET", "/Users?startIndex=1&count=2");
    expect(first.body).toMatchObject({ totalResults: 105, itemsPerPage: 2, startIndex: 1 });
    expect(first.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      "page0@example.com",
      "page1@example.com",
    ]);
    const last = await scim("GET", "/Users?startIndex=104&count=10");
    expect(last.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      "page103@example.com",
      "page104@example.com",
    ]);
    const capped = await scim("GET", "/Users?count=1000");
    expect(capped.body.itemsPerPage).toBe(100);
    const past = await scim("GET", "/Users?startIndex=500");
    expect(past.body).toMatchObject({ totalResults: 105, itemsPerPage: 0, Resources: [] });
    expect((await scim("GET", "/Users?count=abc")).status).toBe(400);
  });

  test("POST /Users/.search works like GET with a filter", async () => {
    const u = await create("search@example.com");
    const res = await scim("POST", "/Users/.search", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
      filter: 'userName eq "search@example.com"',
      attributes: ["userName"],
    });
    expect(res.body.Resources).toEqual([{ schemas: u.schemas, id: u.id, userName: "search@example.com" }]);
  });
});
