import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { RunningDialpadEmulator } from "./server";
import { filterQuery, groupBody, patchBody, scimClient, startQuiet, userBody, type Scim } from "./testing";

let emu: RunningDialpadEmulator;
let scim: Scim;
let alice: string;
let bob: string;

beforeAll(async () => {
  emu = await startQuiet();
  scim = scimClient(emu);
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.company.reset();
  alice = emu.company.createUser(userBody("alice@example.com", { displayName: "Alice A" })).id;
  bob = emu.company.createUser(userBody("bob@example.com")).id;
});

async function createGroup(name: string, extra: Record<string, unknown> = {}) {
  const res = await scim("POST", "/Groups", groupBody(name, extra));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const memberIds = (group: { members?: { value: string }[] }) => (group.members ?? []).map((m) => m.value);

describe("groups", () => {
  test("POST as Entra sends it (extra MS schema, empty members) → 201; duplicate displayName → 409", async () => {
    const res = await scim("POST", "/Groups", {
      schemas: [
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
      ],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "Sales",
      meta: { resourceType: "Group" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      displayName: "Sales",
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      members: [],
    });
    expect(res.body.meta).toMatchObject({
      resourceType: "Group",
      location: `${emu.url}/scim/Groups/${res.body.id}`,
    });
    const dup = await scim("POST", "/Groups", groupBody("sales"));
    expect(dup.body).toMatchObject({ status: "409", scimType: "uniqueness" });
  });

  test("members add (Entra default) and remove in both forms", async () => {
    const g = await createGroup("Support");
    const add = await scim(
      "PATCH",
      `/Groups/${g.id}`,
      patchBody({
        op: "Add",
        path: "members",
        value: [
          { $ref: null, value: alice },
          { $ref: null, value: bob },
        ],
      }),
    );
    expect(add.status).toBe(204);
    let got = (await scim("GET", `/Groups/${g.id}`)).body;
    expect(memberIds(got)).toEqual([alice, bob]);
    expect(got.members[0]).toEqual({
      value: alice,
      $ref: `${emu.url}/scim/Users/${alice}`,
      type: "User",
      display: "Alice A",
    });

    await scim(
      "PATCH",
      `/Groups/${g.id}`,
      patchBody({ op: "Remove", path: "members", value: [{ $ref: null, value: alice }] }),
    );
    got = (await scim("GET", `/Groups/${g.id}`)).body;
    expect(memberIds(got)).toEqual([bob]);

    await scim("PATCH", `/Groups/${g.id}`, patchBody({ op: "remove", path: `members[value eq "${bob}"]` }));
    got = (await scim("GET", `/Groups/${g.id}`)).body;
    expect(memberIds(got)).toEqual([]);
  });

  test("adding a member that is not a user is 400 and the group is unchanged", async () => {
    const g = await createGroup("Ops", { members: [{ value: alice }] });
    const res = await scim(
      "PATCH",
      `/Groups/${g.id}`,
      patchBody({ op: "Add", path: "members", value: [{ value: bob }, { value: "404" }] }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: "400", scimType: "invalidValue" });
    expect(memberIds((await scim("GET", `/Groups/${g.id}`)).body)).toEqual([alice]);
    expect((await scim("POST", "/Groups", groupBody("Bad", { members: [{ value: "nope" }] }))).status).toBe(
      400,
    );
  });

  test("a displayName change is refused with 400 mutability, by PATCH (path or not) and PUT", async () => {
    const g = await createGroup("Engineering");
    const expected = {
      status: "400",
      scimType: "mutability",
      detail: "Dialpad does not support group renames",
    };
    expect(
      (
        await scim(
          "PATCH",
          `/Groups/${g.id}`,
          patchBody({ op: "Replace", path: "displayName", value: "Eng" }),
        )
      ).body,
    ).toMatchObject(expected);
    expect(
      (await scim("PATCH", `/Groups/${g.id}`, patchBody({ op: "replace", value: { displayName: "Eng" } })))
        .body,
    ).toMatchObject(expected);
    expect((await scim("PUT", `/Groups/${g.id}`, groupBody("Eng"))).body).toMatchObject(expected);
    expect((await scim("GET", `/Groups/${g.id}`)).body.displayName).toBe("Engineering");
    // Re-sending the same name is not a rename.
    expect(
      (
        await scim(
          "PATCH",
          `/Groups/${g.id}`,
          patchBody({ op: "Replace", path: "displayName", value: "Engineering" }),
        )
      ).status,
    ).toBe(204);
  });

  test("a rename refused in one op rolls back the whole PATCH", async () => {
    const g = await createGroup("Atomic");
    const res = await scim(
      "PATCH",
      `/Groups/${g.id}`,
      patchBody(
        { op: "Add", path: "members", value: [{ value: alice }] },
        { op: "Replace", path: "displayName", value: "New" },
      ),
    );
    expect(res.status).toBe(400);
    expect(memberIds((await scim("GET", `/Groups/${g.id}`)).body)).toEqual([]);
  });

  test("excludedAttributes=members omits members on GET and in lists; filter by displayName", async () => {
    const g = await createGroup("Finance", { members: [{ value: alice }] });
    const one = await scim("GET", `/Groups/${g.id}?excludedAttributes=members`);
    expect(one.body.members).toBeUndefined();
    expect(one.body.displayName).toBe("Finance");
    const list = await scim(
      "GET",
      `/Groups?excludedAttributes=members&${filterQuery('displayName eq "finance"')}`,
    );
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0].members).toBeUndefined();
    expect(list.body.Resources[0].id).toBe(g.id);
    const withMembers = await scim("GET", `/Groups?${filterQuery('displayName eq "Finance"')}`);
    expect(memberIds(withMembers.body.Resources[0])).toEqual([alice]);
    expect((await scim("GET", `/Groups?${filterQuery('members.value eq "x"')}`)).body.scimType).toBe(
      "invalidFilter",
    );
  });

  test("PATCH with attributes asked for returns 200 and the group", async () => {
    const g = await createGroup("Visible");
    const res = await scim(
      "PATCH",
      `/Groups/${g.id}?attributes=members`,
      patchBody({ op: "add", path: "members", value: [{ value: bob }] }),
    );
    expect(res.status).toBe(200);
    expect(memberIds(res.body)).toEqual([bob]);
  });

  test("deleting a user drops it from its groups; deleting a group is 204 then 404", async () => {
    const g = await createGroup("Dropped", { members: [{ value: alice }, { value: bob }] });
    expect((await scim("DELETE", `/Users/${alice}`)).status).toBe(204);
    expect(memberIds((await scim("GET", `/Groups/${g.id}`)).body)).toEqual([bob]);
    expect((await scim("DELETE", `/Groups/${g.id}`)).status).toBe(204);
    expect((await scim("GET", `/Groups/${g.id}`)).status).toBe(404);
    expect((await scim("GET", `/Users/${bob}`)).body.groups).toBeUndefined();
  });

  test("users list the groups they belong to", async () => {
    const g = await createGroup("Listed", { members: [{ value: bob }] });
    const user = (await scim("GET", `/Users/${bob}`)).body;
    expect(user.groups).toEqual([
      { value: g.id, $ref: `${emu.url}/scim/Groups/${g.id}`, display: "Listed", type: "direct" },
    ]);
  });

  test("externalId can be replaced and is filterable", async () => {
    const g = await createGroup("Ext", { externalId: "old" });
    await scim("PATCH", `/Groups/${g.id}`, patchBody({ op: "Replace", path: "externalId", value: "new" }));
    expect((await scim("GET", `/Groups?${filterQuery('externalId eq "new"')}`)).body.totalResults).toBe(1);
    expect((await scim("GET", `/Groups?${filterQuery('externalId eq "old"')}`)).body.totalResults).toBe(0);
  });
});
