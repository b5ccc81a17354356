import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SignJWT, decodeJwt, decodeProtectedHeader, type FetchImplementation } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_TENANT_ID } from "@/sandbox/identity/constants";
import { createHttpsFetch } from "@/sandbox/identity/https-fetch";
import { startIdentityProvider, type RunningIdentityProvider } from "@/sandbox/identity/server";
import { ensureSandboxTls } from "@/sandbox/tls";
import {
  AuthError,
  ROLES,
  bareScopeName,
  SigningKeysUnavailableError,
  createAccessTokenVerifier,
  requireRole,
  type Principal,
  type TokenVerifierOptions,
} from "./verify-token";

const OTHER_TENANT = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a";
let tlsDir: string;
let idp: RunningIdentityProvider;
let trustingFetch: FetchImplementation;
let httpsFetch: ReturnType<typeof createHttpsFetch>;
let jwksFetches = 0;

beforeAll(async () => {
  tlsDir = await mkdtemp(path.join(os.tmpdir(), "verify-token-"));
  const tls = await ensureSandboxTls(tlsDir);
  idp = await startIdentityProvider({ tls });
  httpsFetch = createHttpsFetch(tls.cert);
  trustingFetch = (url, init) => {
    jwksFetches++;
    return httpsFetch(url, init);
  };
});

afterAll(async () => {
  await idp?.close();
  await rm(tlsDir, { recursive: true, force: true });
});

function verifier(overrides: Partial<TokenVerifierOptions> = {}) {
  return createAccessTokenVerifier({
    issuer: idp.issuer,
    audience: idp.apiAudience,
    jwksUri: idp.jwksUri,
    fetch: trustingFetch,
    ...overrides,
  });
}

/** Asserts the refusal and that its message never echoes the token. */
async function refusal(promise: Promise<unknown>, token = ""): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  const authError = error as AuthError;
  if (token) {
    expect(authError.message).not.toContain(token);
    for (const part of token.split(".")) expect(authError.message).not.toContain(part);
  }
  return authError;
}

describe("createAccessTokenVerifier against the sandbox identity provider", () => {
  it("accepts an admin token and returns who the caller is", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example");

    const principal = await verifier()(`Bearer ${token}`);

    expect(principal).toEqual<Principal>({
      kind: "user",
      objectId: decodeJwt(token).oid as string,
      tenantId: SANDBOX_TENANT_ID,
      upn: "admin@contoso.example",
      name: "Ada Admin",
      roles: [ROLES.admin],
      clientId: decodeJwt(token).azp as string,
    });
  });

  it("rejects a token signed by another key that claims the provider's kid", async () => {
    const genuine = await idp.issueAccessTokenForTesting("admin@contoso.example");
    const { kid } = decodeProtectedHeader(genuine);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
      .sign(privateKey);

    const error = await refusal(verifier()(`Bearer ${forged}`), forged);

    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_token");
  });

  it("rejects an HS256 token even when its kid matches (only RS256 is accepted)", async () => {
    const genuine = await idp.issueAccessTokenForTesting("admin@contoso.example");
    const { kid } = decodeProtectedHeader(genuine);
    const hmac = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ alg: "HS256", kid })
      .sign(new TextEncoder().encode("a-shared-secret-an-attacker-chose-32b"));

    const error = await refusal(verifier()(`Bearer ${hmac}`), hmac);

    expect([error.status, error.code]).toEqual([401, "invalid_token"]);
  });

  it("rejects a token from another issuer", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", { tenantId: OTHER_TENANT });

    const error = await refusal(verifier()(`Bearer ${token}`), token);

    expect([error.status, error.code]).toEqual([401, "wrong_issuer"]);
  });

  it("rejects a token for another API", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      audience: "api://someone-else",
    });

    const error = await refusal(verifier()(`Bearer ${token}`), token);

    expect([error.status, error.code]).toEqual([401, "wrong_audience"]);
  });

  it("rejects an expired token but tolerates expiry within the clock skew", async () => {
    const expired = await idp.issueAccessTokenForTesting("admin@contoso.example", { expiresInSeconds: -120 });
    const justExpired = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      expiresInSeconds: -30,
    });

    const error = await refusal(verifier()(`Bearer ${expired}`), expired);

    expect([error.status, error.code]).toEqual([401, "expired_token"]);
    await expect(verifier()(`Bearer ${justExpired}`)).resolves.toMatchObject({
      upn: "admin@contoso.example",
    });
    await expect(verifier({ clockToleranceSeconds: 0 })(`Bearer ${justExpired}`)).rejects.toMatchObject({
      code: "expired_token",
    });
  });

  it.each([
    [undefined, "missing_token"],
    [null, "missing_token"],
    ["", "missing_token"],
    ["Basic YWRtaW46cGFzc3dvcmQ=", "invalid_token"],
    ["Bearer", "invalid_token"],
    ["Bearer not-a-jwt", "invalid_token"],
    ["Bearer a.b.c", "invalid_token"],
  ])("answers 401 to the Authorization header %j", async (header, code) => {
    const error = await refusal(verifier()(header));

    expect([error.status, error.code]).toEqual([401, code]);
  });

  it("accepts the lower-case bearer scheme", async () => {
    const token = await idp.issueAccessTokenForTesting("reader@contoso.example");

    await expect(verifier()(`bearer ${token}`)).resolves.toMatchObject({ roles: [ROLES.reader] });
  });

  it("gives a user without an app role a principal that requireRole refuses with 403", async () => {
    const token = await idp.issueAccessTokenForTesting("norole@contoso.example");

    const principal = await verifier()(`Bearer ${token}`);

    expect(principal.roles).toEqual([]);
    expect(decodeJwt(token).roles).toBeUndefined();
    for (const needed of ["read", "write"] as const) {
      const error = await refusal(Promise.resolve().then(() => requireRole(principal, needed)));
      expect([error.status, error.code]).toEqual([403, "forbidden"]);
    }
  });

  it("lets a Reader read but not write, and an Admin do both", async () => {
    const v = verifier();
    const reader = await v(`Bearer ${await idp.issueAccessTokenForTesting("reader@contoso.example")}`);
    const admin = await v(`Bearer ${await idp.issueAccessTokenForTesting("admin@contoso.example")}`);

    expect(() => requireRole(reader, "read")).not.toThrow();
    expect(() => requireRole(reader, "write")).toThrow(
      expect.objectContaining({ status: 403, code: "forbidden" }),
    );
    expect(() => requireRole(admin, "read")).not.toThrow();
    expect(() => requireRole(admin, "write")).not.toThrow();
  });

  it("ignores role names the API does not define", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      roles: ["Global.Administrator"],
    });

    const principal = await verifier()(`Bearer ${token}`);

    expect(principal.roles).toEqual([]);
  });

  it("refuses a tenant that is not allowed, also for a multi-tenant issuer template", async () => {
    const ours = await idp.issueAccessTokenForTesting("admin@contoso.example");
    const theirs = await idp.issueAccessTokenForTesting("admin@contoso.example", { tenantId: OTHER_TENANT });
    const multiTenant = verifier({
      issuer: `${idp.url}/{tenantid}/v2.0`,
      allowedTenantIds: [SANDBOX_TENANT_ID],
    });

    await expect(multiTenant(`Bearer ${ours}`)).resolves.toMatchObject({ tenantId: SANDBOX_TENANT_ID });
    const error = await refusal(multiTenant(`Bearer ${theirs}`), theirs);
    expect([error.status, error.code]).toEqual([401, "wrong_tenant"]);
    const onlyOthers = await refusal(verifier({ allowedTenantIds: [OTHER_TENANT] })(`Bearer ${ours}`), ours);
    expect([onlyOthers.status, onlyOthers.code]).toEqual([401, "wrong_tenant"]);
  });

  it("reports unreachable signing keys as an outage, not as the caller's fault", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example");
    const v = verifier({ jwksUri: `${idp.url}/${SANDBOX_TENANT_ID}/no-such-keys` });

    const error = await v(`Bearer ${token}`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SigningKeysUnavailableError);
    expect(error).not.toBeInstanceOf(AuthError);
  });

  it("accepts tokens signed with a rotated key after refetching the key set", async () => {
    const v = verifier();
    const before = await idp.issueAccessTokenForTesting("admin@contoso.example");
    await v(`Bearer ${before}`);
    const fetchesBefore = jwksFetches;

    await idp.rotateSigningKey();
    const after = await idp.issueAccessTokenForTesting("admin@contoso.example");
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    // Past the verifier's refetch cooldown (1 s by default).
    await new Promise((resolve) => setTimeout(resolve, 1100));

    await expect(v(`Bearer ${after}`)).resolves.toMatchObject({ roles: [ROLES.admin] });
    expect(jwksFetches).toBe(fetchesBefore + 1);
    // Tokens issued before the rotation stay valid until they expire.
    await expect(v(`Bearer ${before}`)).resolves.toMatchObject({ roles: [ROLES.admin] });
  });

  it("does not refetch the key set for every unknown kid inside the cooldown", async () => {
    const v = verifier({ jwksCooldownMs: 60_000 });
    await v(`Bearer ${await idp.issueAccessTokenForTesting("admin@contoso.example")}`);
    const fetchesBefore = jwksFetches;

    await idp.rotateSigningKey();
    const after = await idp.issueAccessTokenForTesting("admin@contoso.example");

    const error = await refusal(v(`Bearer ${after}`), after);
    expect([error.status, error.code]).toEqual([401, "invalid_token"]);
    expect(jwksFetches).toBe(fetchesBefore);
  });
});

/** What a pipeline does: client id and secret for an app-only token, over the token endpoint's HTTPS. */
async function clientCredentialsToken(app: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await httpsFetch(idp.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: `${idp.apiAudience}/.default`,
    }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body.access_token;
}

describe("app-only (client-credentials) tokens", () => {
  const [adminApp, readerApp] = [
    () => idp.daemonApps.find((app) => app.roles.includes(ROLES.admin))!,
    () => idp.daemonApps.find((app) => app.roles.includes(ROLES.reader))!,
  ];

  it("accepts an Admin daemon's token from the sandbox token endpoint; the app is the principal", async () => {
    const app = adminApp();
    const token = await clientCredentialsToken(app);
    expect(decodeJwt(token).scp).toBeUndefined();

    const principal = await verifier()(`Bearer ${token}`);

    expect(principal).toEqual<Principal>({
      kind: "app",
      objectId: app.objectId,
      tenantId: SANDBOX_TENANT_ID,
      upn: `app:${app.clientId}`,
      name: `Application ${app.clientId}`,
      roles: [ROLES.admin],
      clientId: app.clientId,
    });
    expect(() => requireRole(principal, "write")).not.toThrow();
  });

  it("lets a Reader daemon read but not write", async () => {
    const principal = await verifier()(`Bearer ${await clientCredentialsToken(readerApp())}`);

    expect(principal.roles).toEqual([ROLES.reader]);
    expect(() => requireRole(principal, "read")).not.toThrow();
    expect(() => requireRole(principal, "write")).toThrow(
      expect.objectContaining({ status: 403, code: "forbidden" }),
    );
  });

  it("refuses a wrong client secret at the token endpoint", async () => {
    await expect(clientCredentialsToken({ ...adminApp(), clientSecret: "not-the-secret" })).rejects.toThrow(
      /invalid_client|client authentication/,
    );
  });

  it("accepts an app-only token without idtyp (Entra's default) and names the app by appid in v1.0 shape", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      scopes: [],
      claims: {
        azp: undefined,
        appid: "11111111-2222-4333-8444-555555555555",
        preferred_username: undefined,
      },
    });

    const principal = await verifier()(`Bearer ${token}`);

    expect(principal).toMatchObject({ kind: "app", clientId: "11111111-2222-4333-8444-555555555555" });
    expect(principal.upn).toBe("app:11111111-2222-4333-8444-555555555555");
  });

  it("refuses idtyp app together with scp, and idtyp user without scp", async () => {
    const appWithScope = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      claims: { idtyp: "app" },
    });
    const userWithoutScope = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      scopes: [],
      claims: { idtyp: "user" },
    });

    const first = await refusal(verifier()(`Bearer ${appWithScope}`), appWithScope);
    const second = await refusal(verifier()(`Bearer ${userWithoutScope}`), userWithoutScope);

    expect([first.status, first.code]).toEqual([401, "invalid_token"]);
    expect([second.status, second.code, second.message]).toEqual([
      401,
      "invalid_token",
      "The access token lacks the access_as_user scope.",
    ]);
  });

  it("refuses a user's token without scp (an ID token, say) even though it carries app roles", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", { scopes: [] });
    expect(decodeJwt(token)).toMatchObject({
      roles: [ROLES.admin],
      preferred_username: "admin@contoso.example",
    });

    const error = await refusal(verifier()(`Bearer ${token}`), token);

    expect([error.status, error.message]).toEqual([401, "The access token lacks the access_as_user scope."]);
  });

  it("refuses an app-only token that names no application", async () => {
    const token = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      scopes: [],
      claims: { azp: undefined, preferred_username: undefined },
    });

    const error = await refusal(verifier()(`Bearer ${token}`), token);

    expect([error.status, error.code]).toEqual([401, "invalid_token"]);
  });
});

describe("the required delegated scope", () => {
  it("is the configured scope's last path segment, whatever the API named it", async () => {
    const custom = await idp.issueAccessTokenForTesting("admin@contoso.example", {
      scopes: ["custom.scope"],
    });
    const standard = await idp.issueAccessTokenForTesting("admin@contoso.example");
    const v = verifier({ requiredScope: `${idp.apiAudience}/custom.scope` });

    await expect(v(`Bearer ${custom}`)).resolves.toMatchObject({ kind: "user", roles: [ROLES.admin] });
    const error = await refusal(v(`Bearer ${standard}`), standard);
    expect([error.status, error.code, error.message]).toEqual([
      401,
      "invalid_token",
      "The access token lacks the custom.scope scope.",
    ]);
    const defaultVerifier = await refusal(verifier()(`Bearer ${custom}`), custom);
    expect(defaultVerifier.status).toBe(401);
  });

  it.each([
    ["api://dialpad-provisioning/access_as_user", "access_as_user"],
    ["api://x/custom.scope", "custom.scope"],
    ["https://contoso.example/provisioning/Read.All/", "Read.All"],
    ["custom.scope", "custom.scope"],
  ])("reads %j as %j", (configured, bare) => {
    expect(bareScopeName(configured)).toBe(bare);
  });
});

describe("requireRole", () => {
  const principal = (roles: Principal["roles"]): Principal => ({
    kind: "user",
    objectId: "o",
    tenantId: "t",
    upn: "u@example.com",
    name: "U",
    roles,
  });

  it("explains which role is missing", () => {
    expect(() => requireRole(principal([ROLES.reader]), "write")).toThrow(/Provisioning\.Admin/);
    expect(() => requireRole(principal([]), "read")).toThrow(/Provisioning\.Reader/);
  });
});
