import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_ACCESS_ROLE_ID, DIALPAD_USER_ROLE_ID } from "./directory";
import { SEED_GROUPS, SEED_USERS } from "./seed";
import { DIALPAD_SERVICE_PRINCIPAL_ID, startGraphEmulator, type RunningGraphEmulator } from "./server";
import { admin, followAll, getToken, graphGet } from "./testing";

describe("/_sandbox admin API", () => {
  let emulator: RunningGraphEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startGraphEmulator();
    token = await getToken(emulator);
  });
  afterAll(() => emulator.close());

  test("summarises the directory and names the well-known seed objects", async () => {
    const { status, body } = await admin(emulator, "GET", "/directory");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      users: 249,
      deletedUsers: 1,
      groups: 12,
      servicePrincipal: { id: DIALPAD_SERVICE_PRINCIPAL_ID },
    });
    expect(body.wellKnown).toMatchObject({ users: { zoe: SEED_USERS.zoe } });
  });

  test("users: create, update, soft delete, restore and hard delete show up in Graph", async () => {
    const created = await admin(emulator, "POST", "/users", {
      userPrincipalName: "ines.nuevo@contoso.example",
      displayName: "Inés Nuevo",
      department: "Sales",
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await graphGet(emulator, `/v1.0/users/${id}?$select=department`, token)).body).toMatchObject({
      department: "Sales",
    });

    expect((await admin(emulator, "PATCH", `/users/${id}`, { department: "Support" })).status).toBe(200);
    expect((await graphGet(emulator, `/v1.0/users/${id}?$select=department`, token)).body).toMatchObject({
      department: "Support",
    });

    expect((await admin(emulator, "DELETE", `/users/${id}`)).status).toBe(204);
    expect((await graphGet(emulator, `/v1.0/users/${id}`, token)).status).toBe(404);
    expect((await admin(emulator, "POST", `/users/${id}/restore`)).status).toBe(200);
    expect((await graphGet(emulator, `/v1.0/users/${id}`, token)).status).toBe(200);
    expect((await admin(emulator, "DELETE", `/users/${id}?hard=true`)).status).toBe(204);
    expect((await admin(emulator, "POST", `/users/${id}/restore`)).status).toBe(404);
  });

  test("rejects invalid bodies and duplicate UPNs", async () => {
    const unknownField = await admin(emulator, "POST", "/users", {
      userPrincipalName: "x@contoso.example",
      favouriteColour: "red",
    });
    expect(unknownField.status).toBe(400);
    const duplicate = await admin(emulator, "POST", "/users", { userPrincipalName: SEED_USERS.zoe.upn });
    expect(duplicate.status).toBe(409);
    const twoPhones = await admin(emulator, "PATCH", `/users/${SEED_USERS.zoe.id}`, {
      businessPhones: ["1", "2"],
    });
    expect(twoPhones.status).toBe(400);
  });

  test("groups, members and assignments drive appRoleAssignedTo and members", async () => {
    const group = await admin(emulator, "POST", "/groups", { displayName: "Dialpad Pilot" });
    expect(group.status).toBe(201);
    const groupId = group.body.id as string;
    expect(
      (await admin(emulator, "POST", `/groups/${groupId}/members/${SEED_USERS.unassigned.id}`)).status,
    ).toBe(204);
    expect(
      (await admin(emulator, "POST", `/groups/${groupId}/members/${SEED_USERS.unassigned.id}`)).status,
    ).toBe(409);
    const assignment = await admin(emulator, "POST", "/assignments", {
      principalId: groupId,
      appRoleId: DIALPAD_USER_ROLE_ID,
    });
    expect(assignment.status).toBe(201);
    expect(
      (
        await admin(emulator, "POST", "/assignments", {
          principalId: groupId,
          appRoleId: "12345678-1234-4234-8234-123456789012",
        })
      ).status,
    ).toBe(400);

    const assigned = await followAll(
      emulator,
      `/v1.0/servicePrincipals/${DIALPAD_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo?$top=999`,
      token,
    );
    expect(assigned.items.find((a) => a.principalId === groupId)).toMatchObject({
      principalType: "Group",
      principalDisplayName: "Dialpad Pilot",
    });
    const members = await graphGet<{ value: { id: string }[] }>(
      emulator,
      `/v1.0/groups/${groupId}/members`,
      token,
    );
    expect(members.body.value.map((m) => m.id)).toEqual([SEED_USERS.unassigned.id]);

    expect(
      (await admin(emulator, "DELETE", `/groups/${groupId}/members/${SEED_USERS.unassigned.id}`)).status,
    ).toBe(204);
    expect((await admin(emulator, "DELETE", `/assignments/${groupId}`)).status).toBe(200);
    const after = await followAll(
      emulator,
      `/v1.0/servicePrincipals/${DIALPAD_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo?$top=999`,
      token,
    );
    expect(after.items.some((a) => a.principalId === groupId)).toBe(false);

    expect(
      (await admin(emulator, "PATCH", `/groups/${SEED_GROUPS.sales.id}`, { displayName: "Sales & Success" }))
        .status,
    ).toBe(200);
    expect(
      (await graphGet(emulator, `/v1.0/groups/${SEED_GROUPS.sales.id}?$select=displayName`, token)).body,
    ).toMatchObject({ displayName: "Sales & Success" });
    expect(
      (
        await admin(emulator, "POST", "/assignments", {
          principalId: SEED_USERS.unassigned.id,
          appRoleId: DEFAULT_ACCESS_ROLE_ID,
        })
      ).status,
    ).toBe(201);
  });

  test("reset reseeds with the given options; config changes throttling at run time", async () => {
    const reset = await admin(emulator, "POST", "/reset", { seed: { users: 40, groups: 15, seed: 3 } });
    expect(reset.body).toMatchObject({ users: 39, groups: 15 });
    const empty = await admin(emulator, "POST", "/reset", { seed: false });
    expect(empty.body).toMatchObject({ users: 0, groups: 0 });
    expect((await admin(emulator, "POST", "/reset", {})).body).toMatchObject({ users: 249 });

    expect(
      (await admin(emulator, "PUT", "/config", { rateLimit: { requestsPerSecond: 1 } })).body,
    ).toMatchObject({ rateLimit: { requestsPerSecond: 1 }, latencyMs: 0 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await graphGet(emulator, "/v1.0/users?$top=1", token)).status);
    expect(statuses).toContain(429);
    await admin(emulator, "PUT", "/config", { rateLimit: null });
    expect((await graphGet(emulator, "/v1.0/users?$top=1", token)).status).toBe(200);

    const log = await admin(emulator, "GET", "/requests");
    expect((log.body.requests as { status: number }[]).some((r) => r.status === 429)).toBe(true);
  });

  test("unknown admin routes answer 404 and bad JSON 400", async () => {
    expect((await admin(emulator, "GET", "/nothing-here")).status).toBe(404);
    const response = await fetch(`${emulator.url}/_sandbox/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
  });
});
