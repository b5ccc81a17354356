import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PublicClientApplication, type INetworkModule, type NetworkResponse } from "@azure/msal-node";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, createAccessTokenVerifier, requireRole } from "@/lib/auth/verify-token";
import { ensureSandboxTls } from "../tls";
import { SANDBOX_CONSOLE_CLIENT_ID, SANDBOX_TENANT_ID } from "./constants";
import { createHttpsFetch, type FetchLike } from "./https-fetch";
import {
  CookieJar,
  SignInError,
  authorizeWithPassword,
  completeSignIn,
  discover,
  redeemAuthorizationCode,
  refreshTokens,
  signInWithPassword,
} from "./login-flow";
import { SANDBOX_ACCOUNTS, startIdentityProvider, type RunningIdentityProvider } from "./server";

const CONSOLE_ORIGIN = "https://localhost:3443";
const REDIRECT_URI = `${CONSOLE_ORIGIN}/`;
const CLIENT_ID = SANDBOX_CONSOLE_CLIENT_ID;
/** What msal-browser sends for `acquireToken({ scopes: [API scope] })`: it appends the OIDC defaults. */
const MSAL_SCOPE = "api://dialpad-provisioning/access_as_user openid profile offline_access";
const admin = SANDBOX_ACCOUNTS[0]!;

let tlsDir: string;
let cert: string;
let idp: RunningIdentityProvider;
let fetch: FetchLike;

beforeAll(async () => {
  tlsDir = await mkdtemp(path.join(os.tmpdir(), "sandbox-identity-"));
  const tls = await ensureSandboxTls(tlsDir);
  cert = tls.cert;
  idp = await startIdentityProvider({
    tls,
    consoleClient: {
      clientId: CLIENT_ID,
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: [REDIRECT_URI],
    },
  });
  fetch = createHttpsFetch(cert);
});

afterAll(async () => {
  await idp?.close();
  await rm(tlsDir, { recursive: true, force: true });
});

const signIn = (username: string, password: string) =>
  signInWithPassword({
    authority: idp.authority,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    scope: MSAL_SCOPE,
    username,
    password,
    ca: cert,
  });

const apiVerifier = () =>
  createAccessTokenVerifier({ issuer: idp.issuer, audience: idp.apiAudience, jwksUri: idp.jwksUri, fetch });

describe("sandbox identity provider", () => {
  it("publishes Entra's v2.0 discovery document where MSAL looks for it", async () => {
    expect(idp.authority).toBe(`${idp.url}/${SANDBOX_TENANT_ID}/`);
    expect(idp.url).toMatch(/^https:\/\/localhost:\d+$/);

    const metadata = await discover(idp.authority, fetch);

    expect(metadata.issuer).toBe(`${idp.url}/${SANDBOX_TENANT_ID}/v2.0`);
    expect(metadata.authorization_endpoint).toBe(`${idp.url}/${SANDBOX_TENANT_ID}/oauth2/v2.0/authorize`);
    expect(metadata.token_endpoint).toBe(`${idp.url}/${SANDBOX_TENANT_ID}/oauth2/v2.0/token`);
    expect(metadata.end_session_endpoint).toBe(`${idp.url}/${SANDBOX_TENANT_ID}/oauth2/v2.0/logout`);
    expect(JSON.parse(idp.authorityMetadata)).toEqual(metadata);
    const keys = (await (await fetch(metadata.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    expect(keys.keys.length).toBeGreaterThan(0);
    for (const key of keys.keys) expect(key).not.toHaveProperty("d");
  });

  it("signs in with authorization code + PKCE and issues an API token the verifier accepts as Admin", async () => {
    const authorization = await authorizeWithPassword(
      {
        authority: idp.authority,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scope: MSAL_SCOPE,
        username: admin.username,
        password: admin.password,
      },
      fetch,
    );

    const { tokens, headers } = await redeemAuthorizationCode({
      tokenEndpoint: authorization.metadata.token_endpoint,
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      code: authorization.code,
      codeVerifier: authorization.codeVerifier,
      fetch,
    });

    expect(headers.get("access-control-allow-origin")).toBe(CONSOLE_ORIGIN);
    expect(decodeProtectedHeader(tokens.accessToken)).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({
      aud: "api://dialpad-provisioning",
      iss: idp.issuer,
      tid: SANDBOX_TENANT_ID,
      oid: admin.objectId,
      preferred_username: admin.username,
      scp: "access_as_user",
      azp: CLIENT_ID,
      ver: "2.0",
      roles: ["Provisioning.Admin"],
    });
    expect(decodeJwt(tokens.idToken)).toMatchObject({
      aud: CLIENT_ID,
      iss: idp.issuer,
      oid: admin.objectId,
      tid: SANDBOX_TENANT_ID,
    });
    expect(tokens.refreshToken).not.toBe("");
    const principal = await apiVerifier()(`Bearer ${tokens.accessToken}`);
    expect(principal).toMatchObject({ objectId: admin.objectId, upn: admin.username, roles: [ROLES.admin] });
    expect(() => requireRole(principal, "write")).not.toThrow();
  });

  it("shows an accessible sign-in form that lists the sandbox accounts", async () => {
    const authorize = new URL((await discover(idp.authority, fetch)).authorization_endpoint);
    authorize.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: "code",
      redirect_uri: REDIRECT_URI,
      scope: MSAL_SCOPE,
      code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();
    const jar = new CookieJar();
    const redirect = await fetch(authorize, {});
    jar.store(redirect.headers.getSetCookie());
    expect(redirect.status).toBe(303);

    const loginUrl = new URL(redirect.headers.get("location")!, authorize).href;
    const page = await fetch(loginUrl, { headers: { cookie: jar.header(loginUrl) } });
    const html = await page.text();

    expect(page.status).toBe(200);
    expect(html).toMatch(/<label for="username">Username<\/label>/);
    expect(html).toMatch(/<input id="username" name="username"/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).toContain("Sandbox accounts");
    for (const account of SANDBOX_ACCOUNTS) {
      expect(html).toContain(account.username);
      expect(html).toContain(account.password);
    }
  });

  it("keeps the user on the form with an error message after a wrong password", async () => {
    const failure = await signIn(admin.username, "not-the-password").catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(SignInError);
    const { pageError, page } = failure as SignInError;
    expect(pageError).toBe("Your username or password is incorrect.");
    expect(page).toContain('role="alert"');
    expect(page).toContain(`value="${admin.username}"`);
    expect(page).toContain('<button type="submit">Sign in</button>');
  });

  it("rejects an unknown user the same way as a wrong password", async () => {
    const failure = await signIn("nobody@contoso.example", admin.password).catch((e: unknown) => e);

    expect((failure as SignInError).pageError).toBe("Your username or password is incorrect.");
  });

  it("renews tokens with the refresh token MSAL keeps, rotating it and refusing the used one", async () => {
    const first = await signIn(admin.username, admin.password);
    const tokenEndpoint = (await discover(idp.authority, fetch)).token_endpoint;
    const refresh = (refreshToken: string) =>
      refreshTokens({
        tokenEndpoint,
        clientId: CLIENT_ID,
        origin: CONSOLE_ORIGIN,
        refreshToken,
        scope: MSAL_SCOPE,
        fetch,
      });

    const { tokens: renewed, headers } = await refresh(first.refreshToken);

    expect(headers.get("access-control-allow-origin")).toBe(CONSOLE_ORIGIN);
    expect(renewed.refreshToken).not.toBe(first.refreshToken);
    expect(decodeJwt(renewed.accessToken).uti).not.toBe(decodeJwt(first.accessToken).uti);
    await expect(apiVerifier()(`Bearer ${renewed.accessToken}`)).resolves.toMatchObject({
      roles: [ROLES.admin],
    });
    // Reusing a rotated refresh token is treated as theft.
    await expect(refresh(first.refreshToken)).rejects.toThrow(/invalid_grant/);
  });

  it("refuses token requests from a browser origin that is not the console's", async () => {
    const authorization = await authorizeWithPassword(
      {
        authority: idp.authority,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scope: MSAL_SCOPE,
        username: admin.username,
        password: admin.password,
      },
      fetch,
    );

    const response = await fetch(authorization.metadata.token_endpoint, {
      method: "POST",
      headers: { origin: "https://evil.example" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        code: authorization.code,
        code_verifier: authorization.codeVerifier,
      }),
    });

    expect(response.status).toBe(400);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("requires PKCE and checks the code verifier", async () => {
    const metadata = await discover(idp.authority, fetch);
    const withoutPkce = new URL(metadata.authorization_endpoint);
    withoutPkce.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: "code",
      redirect_uri: REDIRECT_URI,
      scope: MSAL_SCOPE,
    }).toString();

    const refused = await fetch(withoutPkce, {});
    const location = new URL(refused.headers.get("location") ?? "", withoutPkce);
    expect(location.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("error_description")).toMatch(/PKCE/);

    const authorization = await authorizeWithPassword(
      {
        authority: idp.authority,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scope: MSAL_SCOPE,
        username: admin.username,
        password: admin.password,
      },
      fetch,
    );
    await expect(
      redeemAuthorizationCode({
        tokenEndpoint: metadata.token_endpoint,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        code: authorization.code,
        codeVerifier: randomBytes(32).toString("base64url"),
        fetch,
      }),
    ).rejects.toThrow(/invalid_grant/);
  });

  it("issues no roles claim to a user without an app role, so the API answers 403", async () => {
    const norole = SANDBOX_ACCOUNTS.find((a) => a.roles.length === 0)!;
    const tokens = await signIn(norole.username, norole.password);

    expect(decodeJwt(tokens.accessToken).roles).toBeUndefined();
    const principal = await apiVerifier()(`Bearer ${tokens.accessToken}`);
    expect(() => requireRole(principal, "read")).toThrow(expect.objectContaining({ status: 403 }));
  });

  it("signs out through end_session and returns to the post-logout URI; the next sign-in asks again", async () => {
    const jar = new CookieJar();
    const authorization = await authorizeWithPassword(
      {
        authority: idp.authority,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scope: MSAL_SCOPE,
        username: admin.username,
        password: admin.password,
      },
      fetch,
      jar,
    );
    const { tokens } = await redeemAuthorizationCode({
      tokenEndpoint: authorization.metadata.token_endpoint,
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      code: authorization.code,
      codeVerifier: authorization.codeVerifier,
      fetch,
    });
    // While signed in, a new authorization request completes without the form (single sign-on).
    await expect(
      authorizeWithPassword(
        {
          authority: idp.authority,
          clientId: CLIENT_ID,
          redirectUri: REDIRECT_URI,
          scope: MSAL_SCOPE,
          username: admin.username,
          password: "unused",
        },
        fetch,
        jar,
      ),
    ).resolves.toHaveProperty("code");

    const logout = new URL(authorization.metadata.end_session_endpoint!);
    logout.search = new URLSearchParams({
      id_token_hint: tokens.idToken,
      post_logout_redirect_uri: REDIRECT_URI,
      state: "bye",
    }).toString();
    const page = await fetch(logout, { headers: { cookie: jar.header(logout.href) } });
    jar.store(page.headers.getSetCookie());
    const html = await page.text();
    expect(html).toContain("Sign out");
    const action = /action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf).toBeTruthy();

    const confirmed = await fetch(action!, {
      method: "POST",
      headers: { cookie: jar.header(action!) },
      body: new URLSearchParams({ xsrf: xsrf!, logout: "yes" }),
    });
    jar.store(confirmed.headers.getSetCookie());

    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe(`${REDIRECT_URI}?state=bye`);
    const again = await authorizeWithPassword(
      {
        authority: idp.authority,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scope: MSAL_SCOPE,
        username: admin.username,
        password: "wrong",
      },
      fetch,
      jar,
    ).catch((e: unknown) => e);
    expect((again as SignInError).pageError).toBe("Your username or password is incorrect.");
  });

  it("keeps signing in after a key rotation, with the new kid, and still publishes the previous key", async () => {
    const before = await signIn(admin.username, admin.password);

    await idp.rotateSigningKey();
    const after = await signIn(admin.username, admin.password);

    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const newKid = decodeProtectedHeader(after.accessToken).kid;
    expect(newKid).not.toBe(oldKid);
    expect(decodeProtectedHeader(after.idToken).kid).toBe(newKid);
    const keys = (await (await fetch(idp.jwksUri)).json()) as { keys: { kid: string }[] };
    expect(keys.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
  });
});

describe("@azure/msal-node against the sandbox", () => {
  /** MSAL's network module over a fetch that trusts the sandbox certificate (no NODE_EXTRA_CA_CERTS in tests). */
  const networkClient = (): INetworkModule => {
    const send = async <T>(
      url: string,
      method: "GET" | "POST",
      options?: { headers?: Record<string, string>; body?: string },
    ): Promise<NetworkResponse<T>> => {
      const response = await fetch(url, { method, headers: options?.headers, body: options?.body });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: (await response.json()) as T,
      };
    };
    return {
      sendGetRequestAsync: (url, options) => send(url, "GET", options),
      sendPostRequestAsync: (url, options) => send(url, "POST", options),
    };
  };

  it("reads the authority metadata, redeems a code and renews silently with the refresh token", async () => {
    const msal = new PublicClientApplication({
      auth: {
        clientId: CLIENT_ID,
        authority: idp.authority,
        knownAuthorities: [new URL(idp.url).host],
        // MSAL's default (Entra) protocol mode, so Entra-specific expectations are exercised too.
        authorityMetadata: idp.authorityMetadata,
      },
      system: { networkClient: networkClient() },
    });
    const verifier = `${randomBytes(32).toString("base64url")}`;
    const scopes = ["api://dialpad-provisioning/access_as_user"];

    const authorizeUrl = await msal.getAuthCodeUrl({
      scopes,
      redirectUri: REDIRECT_URI,
      codeChallenge: createHash("sha256").update(verifier).digest("base64url"),
      codeChallengeMethod: "S256",
    });
    expect(authorizeUrl.startsWith(JSON.parse(idp.authorityMetadata).authorization_endpoint)).toBe(true);
    const landed = new URL(
      await completeSignIn(authorizeUrl, { ...admin, redirectUri: REDIRECT_URI }, fetch),
    );
    const code = landed.searchParams.get("code") ?? new URLSearchParams(landed.hash.slice(1)).get("code");
    expect(code).toBeTruthy();

    const result = await msal.acquireTokenByCode({
      code: code!,
      redirectUri: REDIRECT_URI,
      scopes,
      codeVerifier: verifier,
    });
    expect(result.account?.username).toBe(admin.username);
    await expect(apiVerifier()(`Bearer ${result.accessToken}`)).resolves.toMatchObject({
      roles: [ROLES.admin],
    });

    const silent = await msal.acquireTokenSilent({ account: result.account!, scopes, forceRefresh: true });
    expect(silent.accessToken).not.toBe(result.accessToken);
    await expect(apiVerifier()(`Bearer ${silent.accessToken}`)).resolves.toMatchObject({
      upn: admin.username,
    });
  });
});
