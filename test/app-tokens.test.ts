import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resetEnvironmentCache } from "@/lib/config/env";
import { resetServerContext, serverContext } from "@/lib/server/context";
import { createHttpsFetch } from "@/sandbox/identity/https-fetch";
import { callOperation, startHarness, type Harness } from "./security-harness";

/**
 * Tokens as pipelines and other deployments hold them, through the real route handlers: app-only
 * tokens fetched with the client-credentials grant from the sandbox issuer's token endpoint (as the
 * README's curl example does against Entra), and delegated tokens for an API whose scope has another
 * name than access_as_user.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness("app-tokens-test");
});

afterAll(async () => {
  delete process.env.AUTH_API_SCOPE;
  await h?.close();
});

async function daemonToken(role: "Provisioning.Admin" | "Provisioning.Reader") {
  const { identity } = h.sandbox;
  const app = identity.daemonApps.find((candidate) => candidate.roles.includes(role))!;
  const httpsFetch = createHttpsFetch(readFileSync(h.sandbox.runtime.certPath, "utf8"));
  const response = await httpsFetch(identity.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: `${identity.apiAudience}/.default`,
    }),
  });
  expect(response.status).toBe(200);
  const { access_token: token } = (await response.json()) as { access_token: string };
  return { app, token };
}

/** Rebuilds the route handlers' context with AUTH_API_SCOPE set (or unset), as a restart would. */
function configureScope(scope: string | undefined) {
  if (scope === undefined) delete process.env.AUTH_API_SCOPE;
  else process.env.AUTH_API_SCOPE = scope;
  resetEnvironmentCache();
  const log = serverContext().log;
  resetServerContext();
  serverContext().log = log;
}

describe("app-only tokens (client credentials)", () => {
  test("an Admin daemon reads and writes, and the audit entry names the app", async () => {
    const { app, token } = await daemonToken("Provisioning.Admin");
    const params = { connectionId: h.connectionId };

    const read = await callOperation("getConnection", { token, params });
    const me = await callOperation("me", { token });
    const stopped = await callOperation("stop", { token, params });

    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: h.connectionId });
    expect(me.body).toMatchObject({ upn: `app:${app.clientId}`, canWrite: true });
    expect(stopped.status).toBe(200);
    const audit = await callOperation("listAudit", { token, params });
    expect((audit.body?.items as { activity: string; actor: unknown }[])[0]).toMatchObject({
      activity: "Disable/pause provisioning configuration",
      actor: { objectId: app.objectId, upn: `app:${app.clientId}` },
    });
  });

  test("a Reader daemon reads but gets 403 on a write, which changes nothing", async () => {
    const { token } = await daemonToken("Provisioning.Reader");
    const params = { connectionId: h.connectionId };
    const auditBefore = await h.t.db.auditEntry.count();

    const read = await callOperation("getStatus", { token, params });
    const write = await callOperation("stop", { token, params });

    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ type: "urn:problem:forbidden" });
    expect(String(write.body?.detail)).toMatch(/Provisioning\.Admin/);
    expect(await h.t.db.auditEntry.count()).toBe(auditBefore);
  });
});

describe("the delegated scope is the configured one", () => {
  test("with AUTH_API_SCOPE naming custom.scope, a user token for custom.scope is accepted and access_as_user is not", async () => {
    const { identity } = h.sandbox;
    const custom = await identity.issueAccessTokenForTesting("admin@contoso.example", {
      scopes: ["custom.scope"],
    });
    try {
      configureScope(`${identity.apiAudience}/custom.scope`);

      const accepted = await callOperation("me", { token: custom });
      const refused = await callOperation("me", { token: h.tokens.admin });

      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({ upn: "admin@contoso.example", canWrite: true });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ detail: "The access token lacks the custom.scope scope." });
    } finally {
      configureScope(undefined);
    }
    // Back to the default: the custom-scope token is the one refused now.
    expect((await callOperation("me", { token: custom })).status).toBe(401);
    expect((await callOperation("me", { token: h.tokens.admin })).status).toBe(200);
  });
});
