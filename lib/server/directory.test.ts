/**
 * The on-demand user picker's search against the sandbox Graph emulator over HTTPS: who is assigned to
 * the app is decided as a cycle decides it (direct, through a directly assigned group, not nested, not
 * Default Access).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  DIALPAD_SERVICE_PRINCIPAL_ID,
  SANDBOX_GRAPH_CLIENT,
  SANDBOX_TENANT_ID,
  startGraphEmulator,
} from "../../sandbox/graph/server";
import { SEED_USERS } from "../../sandbox/graph/seed";
import { createGraphClient, type GraphClient } from "../graph/client";
import { createHttpsNetworkClient } from "../graph/https-network-client";
import { createMsalTokenProvider } from "../graph/msal-token-provider";
import { fetchTrusting, localhostCertificate } from "../../test/http-server";
import { searchDirectoryUsers } from "./directory";

let emulator: Awaited<ReturnType<typeof startGraphEmulator>>;
let graph: GraphClient;

beforeAll(async () => {
  const tls = await localhostCertificate();
  emulator = await startGraphEmulator({ port: 0, tls });
  graph = createGraphClient({
    baseUrl: `${emulator.url}/v1.0`,
    tokenProvider: createMsalTokenProvider({
      authorityHost: emulator.url,
      tenantId: SANDBOX_TENANT_ID,
      clientId: SANDBOX_GRAPH_CLIENT.clientId,
      clientSecret: SANDBOX_GRAPH_CLIENT.clientSecret,
      networkClient: createHttpsNetworkClient({ ca: tls.cert }),
    }),
    fetch: fetchTrusting(tls.cert),
  });
});
afterAll(async () => {
  await emulator?.close();
});

const ASSIGNED_ONLY = { scope: "AssignedOnly", servicePrincipalId: DIALPAD_SERVICE_PRINCIPAL_ID };

async function assignedBySearch(search: string) {
  const users = await searchDirectoryUsers(graph, ASSIGNED_ONLY, search);
  return Object.fromEntries(users.map((user) => [user.userPrincipalName, user.assigned]));
}

describe("searchDirectoryUsers", () => {
  test("marks users assigned directly or through an assigned group, and not the unassigned", async () => {
    expect(await assignedBySearch("Alex Kim")).toEqual({
      [SEED_USERS.duplicateA.upn]: true,
      [SEED_USERS.duplicateB.upn]: true,
    });
    expect(await assignedBySearch(SEED_USERS.jose.upn)).toEqual({ [SEED_USERS.jose.upn]: true });
    expect(await assignedBySearch(SEED_USERS.unassigned.upn)).toEqual({ [SEED_USERS.unassigned.upn]: false });
  });

  test("does not count nested groups or Default Access, as a cycle does not", async () => {
    expect(await assignedBySearch(SEED_USERS.nestedOnly.upn)).toEqual({ [SEED_USERS.nestedOnly.upn]: false });
    expect(await assignedBySearch(SEED_USERS.defaultAccessOnly.upn)).toEqual({
      [SEED_USERS.defaultAccessOnly.upn]: false,
    });
  });

  test("checks nothing when the app provisions all users", async () => {
    const users = await searchDirectoryUsers(
      graph,
      { scope: "All", servicePrincipalId: DIALPAD_SERVICE_PRINCIPAL_ID },
      SEED_USERS.unassigned.upn,
    );
    expect(users.map((user) => user.assigned)).toEqual([null]);
  });
});
