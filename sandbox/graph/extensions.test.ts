import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SEED_USERS } from "./seed";
import { SANDBOX_GRAPH_CLIENT, startGraphEmulator, type RunningGraphEmulator } from "./server";
import { admin, getToken, graphGet } from "./testing";

const HR_APP_ID = "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09";
const COST_CENTER = "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_costCenter";
const NARROW_CLIENT = {
  clientId: "aaaaaaaa-0000-4000-8000-0000000000e1",
  clientSecret: "narrow-secret",
  roles: ["User.Read.All", "Group.Read.All"],
};

type GraphErrorBody = { error: { code: string; message: string } };

async function availableExtensions(emulator: RunningGraphEmulator, token: string, body: unknown = {}) {
  const response = await fetch(`${emulator.url}/v1.0/directoryObjects/getAvailableExtensionProperties`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("directory extension attributes", () => {
  let emulator: RunningGraphEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startGraphEmulator({ clients: [SANDBOX_GRAPH_CLIENT, NARROW_CLIENT] });
    token = await getToken(emulator);
    emulator.directory.extensions.register({
      appId: HR_APP_ID,
      appDisplayName: "Contoso HR Sync",
      name: "costCenter",
      targetObjects: ["User"],
    });
    emulator.directory.extensions.register({
      appId: HR_APP_ID,
      appDisplayName: "Contoso HR Sync",
      name: "badgeNumber",
      isSyncedFromOnPremises: true,
      targetObjects: ["User"],
    });
    emulator.directory.setUserExtension(SEED_USERS.zoe.id, COST_CENTER, "CC-4711");
  });
  afterAll(() => emulator.close());

  test("getAvailableExtensionProperties lists the definitions in Graph's shape, narrowed by isSyncedFromOnPremises", async () => {
    const all = await availableExtensions(emulator, token);
    expect(all.status).toBe(200);
    expect(all.body["@odata.context"]).toBe(
      `${emulator.url}/v1.0/$metadata#Collection(microsoft.graph.extensionProperty)`,
    );
    expect(all.body.value).toEqual([
      {
        "@odata.type": "#microsoft.graph.extensionProperty",
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        deletedDateTime: null,
        appDisplayName: "Contoso HR Sync",
        dataType: "String",
        isMultiValued: false,
        isSyncedFromOnPremises: false,
        name: COST_CENTER,
        targetObjects: ["User"],
      },
      expect.objectContaining({ name: "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_badgeNumber" }),
    ]);
    const synced = await availableExtensions(emulator, token, { isSyncedFromOnPremises: true });
    expect((synced.body.value as { name: string }[]).map((item) => item.name)).toEqual([
      "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_badgeNumber",
    ]);
  });

  test("the action needs POST, a known parameter and Directory.Read.All", async () => {
    const get = await graphGet<GraphErrorBody>(
      emulator,
      "/v1.0/directoryObjects/getAvailableExtensionProperties",
      token,
    );
    expect(get.status).toBe(405);
    const unknown = await availableExtensions(emulator, token, { isSynced: true });
    expect(unknown.status).toBe(400);
    const narrow = await availableExtensions(emulator, await getToken(emulator, NARROW_CLIENT));
    expect(narrow.status).toBe(403);
    expect(narrow.body).toMatchObject({ error: { code: "Authorization_RequestDenied" } });
  });

  test("$select reads a registered extension; an unset one is left out; an unregistered one is Graph's 400", async () => {
    const zoe = await graphGet(
      emulator,
      `/v1.0/users/${SEED_USERS.zoe.id}?$select=displayName,${COST_CENTER}`,
      token,
    );
    expect(zoe.status).toBe(200);
    expect(zoe.body[COST_CENTER]).toBe("CC-4711");
    const other = emulator.directory.listUsers().find((user) => user.id !== SEED_USERS.zoe.id)!;
    const unset = await graphGet(
      emulator,
      `/v1.0/users/${other.id}?$select=displayName,${COST_CENTER}`,
      token,
    );
    expect(unset.status).toBe(200);
    expect(unset.body).not.toHaveProperty(COST_CENTER);
    const missing = "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_costCentre";
    const refused = await graphGet<GraphErrorBody>(emulator, `/v1.0/users?$select=id,${missing}`, token);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      `Parsing OData Select and Expand failed: Could not find a property named '${missing}' on type 'microsoft.graph.user'.`,
    );
  });

  test("a changed extension value surfaces in users/delta when it is selected", async () => {
    const first = await graphGet<{ "@odata.deltaLink"?: string; "@odata.nextLink"?: string }>(
      emulator,
      `/v1.0/users/delta?$select=displayName,${COST_CENTER}&$deltatoken=latest`,
      token,
    );
    expect(first.status).toBe(200);
    emulator.directory.setUserExtension(SEED_USERS.zoe.id, COST_CENTER, "CC-0815");
    const changes = await graphGet<{ value: Record<string, unknown>[] }>(
      emulator,
      first.body["@odata.deltaLink"]!,
      token,
    );
    expect(changes.body.value).toEqual([
      expect.objectContaining({ id: SEED_USERS.zoe.id, [COST_CENTER]: "CC-0815" }),
    ]);
  });

  test("the control API registers and deletes definitions; a deleted one is Graph's 400 again", async () => {
    const created = await admin(emulator, "POST", "/extensionProperties", {
      appId: HR_APP_ID,
      appDisplayName: "Contoso HR Sync",
      name: "division",
      targetObjects: ["User"],
    });
    expect(created.status).toBe(201);
    const name = created.body.name as string;
    expect(name).toBe("extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_division");
    expect((await graphGet(emulator, `/v1.0/users?$select=id,${name}&$top=1`, token)).status).toBe(200);
    expect((await admin(emulator, "DELETE", `/extensionProperties/${name}`)).status).toBe(204);
    expect((await graphGet(emulator, `/v1.0/users?$select=id,${name}&$top=1`, token)).status).toBe(400);
    expect((await admin(emulator, "DELETE", `/extensionProperties/${name}`)).status).toBe(404);
    const invalid = await admin(emulator, "POST", "/extensionProperties", {
      appId: "not-a-guid",
      appDisplayName: "x",
      name: "y",
      targetObjects: ["User"],
    });
    expect(invalid.status).toBe(400);
  });

  test("Graph properties the emulator stores nothing for are still selectable, as in Graph", async () => {
    const response = await graphGet(
      emulator,
      `/v1.0/users?$select=id,employeeHireDate,faxNumber&$top=1`,
      token,
    );
    expect(response.status).toBe(200);
  });
});
