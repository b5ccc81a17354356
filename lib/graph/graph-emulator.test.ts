/**
 * The Graph client and MSAL token provider against the sandbox Graph emulator over HTTPS, as the
 * worker uses them. The emulator's own behaviour is tested in sandbox/graph.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_ACCESS_ROLE_ID } from "../../sandbox/graph/directory";
import {
  DIALPAD_SERVICE_PRINCIPAL_ID,
  SANDBOX_GRAPH_CLIENT,
  SANDBOX_TENANT_ID,
  startGraphEmulator,
} from "../../sandbox/graph/server";
import { collectAll, createGraphClient, type GraphClient } from "./client";
import { GraphAuthError } from "./errors";
import { createHttpsNetworkClient } from "./https-network-client";
import { createMsalTokenProvider } from "./msal-token-provider";
import { fetchTrusting, localhostCertificate } from "../../test/http-server";
import type { GraphUser } from "./schemas";

let emulator: Awaited<ReturnType<typeof startGraphEmulator>>;
let ca: string;
let graph: GraphClient;

function tokenProvider(clientSecret = SANDBOX_GRAPH_CLIENT.clientSecret) {
  return createMsalTokenProvider({
    authorityHost: emulator.url,
    tenantId: SANDBOX_TENANT_ID,
    clientId: SANDBOX_GRAPH_CLIENT.clientId,
    clientSecret,
    // Like Entra, the emulator names the Graph resource https://graph.microsoft.com wherever Graph is served.
    networkClient: createHttpsNetworkClient({ ca }),
  });
}

beforeAll(async () => {
  const tls = await localhostCertificate();
  ca = tls.cert;
  emulator = await startGraphEmulator({ port: 0, tls });
  graph = createGraphClient({
    baseUrl: `${emulator.url}/v1.0`,
    tokenProvider: tokenProvider(),
    fetch: fetchTrusting(ca),
  });
});
afterAll(async () => {
  await emulator?.close();
});

describe("Graph emulator", () => {
  test("MSAL gets a client-credentials token from the emulator's HTTPS authority", async () => {
    const token = await tokenProvider().getToken();
    expect(token.length).toBeGreaterThan(20);
  });

  test("a wrong client secret is reported as such", async () => {
    const error = await tokenProvider("wrong-secret-value")
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphAuthError);
    expect((error as GraphAuthError).code).toBe("InvalidClientSecret");
  });

  test("listUsers pages through every seeded user", async () => {
    const pages = [];
    for await (const page of graph.listUsers({
      select: ["id", "displayName", "userPrincipalName"],
      pageSize: 50,
    }))
      pages.push(page);
    const ids = pages.flatMap((page) => page.value.map((user) => user.id));
    expect(pages.length).toBeGreaterThan(1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(emulator.directory.summary().users);
  });

  test("service principal app roles, assignments and group members", async () => {
    const servicePrincipal = await graph.getServicePrincipal(DIALPAD_SERVICE_PRINCIPAL_ID);
    expect(servicePrincipal.appRoles.length).toBeGreaterThan(0);
    const assignments = await collectAll(graph.listAppRoleAssignedTo(DIALPAD_SERVICE_PRINCIPAL_ID));
    expect(assignments.length).toBeGreaterThan(0);
    const roleIds = new Set(servicePrincipal.appRoles.map((role) => role.id));
    expect(assignments.some((assignment) => roleIds.has(assignment.appRoleId))).toBe(true);
    const groupAssignment = assignments.find((assignment) => assignment.principalType === "Group");
    expect(groupAssignment).toBeDefined();
    const members = await collectAll(
      graph.listGroupMembers(groupAssignment?.principalId ?? "", ["id", "displayName"]),
    );
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((member) => typeof member["@odata.type"] === "string")).toBe(true);
  });

  test("usersDelta: an initial round ends in a deltaLink, and the next round returns only what changed", async () => {
    let deltaLink: string | undefined;
    let initialCount = 0;
    for await (const page of graph.usersDelta({ select: ["id", "displayName", "accountEnabled"] })) {
      initialCount += page.value.length;
      deltaLink = page.deltaLink ?? deltaLink;
    }
    expect(initialCount).toBeGreaterThanOrEqual(emulator.directory.summary().users);
    expect(deltaLink).toBeDefined();

    // The last user: the first ones are the well-known seed users other tests look for.
    const someone = (await collectAll(graph.listUsers({ select: ["id"], pageSize: 999 }))).at(
      -1,
    ) as GraphUser;
    emulator.directory.updateUser(someone.id, { displayName: "Renamed For Delta" });
    const changes = await collectAll(graph.usersDelta({ deltaLink }));
    expect(changes.map((user) => user.id)).toContain(someone.id);
    expect(changes.find((user) => user.id === someone.id)?.displayName).toBe("Renamed For Delta");
    expect(changes.length).toBeLessThan(initialCount);
  });

  test("groupsDelta carries members@delta", async () => {
    const groups = await collectAll(graph.groupsDelta({ select: ["id", "displayName", "members"] }));
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.some((group) => (group["members@delta"]?.length ?? 0) > 0)).toBe(true);
  });

  test("appRoleAssignmentsDelta: from latest, the next round returns the assignments made and removed", async () => {
    let deltaLink: string | undefined;
    for await (const page of graph.appRoleAssignmentsDelta({ latest: true })) {
      expect(page.value).toEqual([]);
      deltaLink = page.deltaLink;
    }
    const group = emulator.directory.addGroup({ displayName: "Assignment Delta" });
    const made = emulator.directory.assign(group.id, DEFAULT_ACCESS_ROLE_ID);
    const changes = await collectAll(graph.appRoleAssignmentsDelta({ deltaLink, pageSize: 1 }));
    expect(changes).toEqual([
      expect.objectContaining({
        "@odata.type": "#microsoft.graph.appRoleAssignment",
        id: made.id,
        principalId: group.id,
        principalType: "Group",
        resourceId: DIALPAD_SERVICE_PRINCIPAL_ID,
        appRoleId: DEFAULT_ACCESS_ROLE_ID,
      }),
    ]);
    emulator.directory.deleteGroup(group.id);
    expect(await collectAll(graph.appRoleAssignmentsDelta({ deltaLink }))).toEqual([
      { "@odata.type": "#microsoft.graph.appRoleAssignment", id: made.id, "@removed": { reason: "deleted" } },
    ]);
  });

  test("searchUsers finds a user by display-name prefix, including diacritics", async () => {
    const users = await graph.searchUsers("Zoë", {
      select: ["id", "displayName", "userPrincipalName"],
      top: 5,
    });
    expect(users.map((user) => user.userPrincipalName)).toContain("zoe.angstrom@contoso.example");
  });

  test("an unknown user is a 404 GraphError", async () => {
    const error = await graph.getUser("00000000-0000-4000-8000-00000000dead").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, retryable: false });
  });
});
