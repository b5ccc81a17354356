import {
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  createHash,
  type KeyObject,
} from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import Provider, {
  type IssuedAccessToken,
  type KoaContextWithOIDC,
  type OidcClient,
  type StructuredJwt,
  type Grant,
} from "oidc-provider";
import { accessTokenClaims, appAccessTokenClaims } from "./claims";
import {
  API_SCOPE_NAME,
  SANDBOX_API_AUDIENCE,
  SANDBOX_CONSOLE_CLIENT_ID,
  SANDBOX_CONSOLE_ORIGIN,
  SANDBOX_DAEMON_APPS,
  SANDBOX_TENANT_ID,
} from "./constants";
import { createHttpsFetch } from "./https-fetch";
import { SandboxStore } from "./memory-adapter";
import { loginPage, logoutPage, messagePage } from "./pages";

export { SANDBOX_TENANT_ID } from "./constants";

export type SandboxRole = "Provisioning.Admin" | "Provisioning.Reader";

export interface SandboxAccount {
  objectId: string;
  /** User principal name, shown as `preferred_username`. */
  username: string;
  password: string;
  name: string;
  roles: SandboxRole[];
}

/**
 * Sandbox-only credentials, printed on the sign-in page on purpose. The third account holds no app role,
 * so the console's "signed in but not allowed" path (403) can be shown and tested.
 */
export const SANDBOX_ACCOUNTS: SandboxAccount[] = [
  {
    objectId: "5d6a2c8e-1b3f-4a7d-9e2c-7f8b1a0c3d41",
    username: "admin@contoso.example",
    password: "Admin-sandbox-1",
    name: "Ada Admin",
    roles: ["Provisioning.Admin"],
  },
  {
    objectId: "9e4b7d1a-3c2f-4b8e-8a6d-2c1f0e9b5a72",
    username: "reader@contoso.example",
    password: "Reader-sandbox-1",
    name: "Rui Reader",
    roles: ["Provisioning.Reader"],
  },
  {
    objectId: "2a8f5c3d-7e1b-4d9a-b6c2-4e3d2f1a0b93",
    username: "norole@contoso.example",
    password: "Norole-sandbox-1",
    name: "Noor Norole",
    roles: [],
  },
];

/** A confidential client that gets app-only tokens with the client-credentials grant. */
export interface SandboxDaemonApp {
  clientId: string;
  clientSecret: string;
  objectId: string;
  name: string;
  roles: readonly SandboxRole[];
}

export interface IdentityProviderOptions {
  /** Address to bind; URLs always name `localhost` for loopback binds because the certificate does. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tls: { cert: string; key: string };
  tenantId?: string;
  /** The console SPA: a public client that must use PKCE. */
  consoleClient?: { clientId: string; redirectUris: string[]; postLogoutRedirectUris?: string[] };
  /** Application ID URI of the API; its one scope is `${apiAudience}/access_as_user`. */
  apiAudience?: string;
  accounts?: SandboxAccount[];
  daemonApps?: readonly SandboxDaemonApp[];
  accessTokenTtlSeconds?: number;
}

export interface RunningIdentityProvider {
  url: string;
  /** `${url}/${tenantId}/`, the value for MSAL's `auth.authority`. */
  authority: string;
  /** `${url}/${tenantId}/v2.0`, Entra's v2.0 issuer layout. */
  issuer: string;
  jwksUri: string;
  /** Where a daemon app posts `grant_type=client_credentials` (Entra's `/<tenant>/oauth2/v2.0/token`). */
  tokenEndpoint: string;
  daemonApps: readonly SandboxDaemonApp[];
  tenantId: string;
  clientId: string;
  apiAudience: string;
  /** The discovery document as JSON, for MSAL's `auth.authorityMetadata`. */
  authorityMetadata: string;
  issueAccessTokenForTesting(
    username: string,
    overrides?: {
      audience?: string;
      expiresInSeconds?: number;
      roles?: string[];
      tenantId?: string;
      /** Bare names for `scp`; default the API's one scope. An empty list leaves `scp` out. */
      scopes?: string[];
      /** Extra or replaced claims, e.g. `idtyp`. */
      claims?: Record<string, unknown>;
    },
  ): Promise<string>;
  /**
   * Makes a brand-new key the signing key. It is absent from any JWKS fetched before the call, so a
   * verifier must refetch to accept new tokens; the previous key stays published (as Entra keeps
   * rolled-over keys) so tokens issued before the rotation remain valid until they expire.
   */
  rotateSigningKey(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_CONSOLE_REDIRECT_URI = `${SANDBOX_CONSOLE_ORIGIN}/`;

interface SigningKey {
  kid: string;
  privateJwk: Record<string, unknown>;
  privateKey: KeyObject;
}

function newSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(12).toString("base64url");
  return {
    kid,
    privateKey,
    privateJwk: { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" },
  };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1"]);
const MAX_FORM_BYTES = 16 * 1024;
/** Entra issues SPA refresh tokens with a fixed 24-hour lifetime that rotation does not extend. */
const SPA_REFRESH_TOKEN_TTL = 24 * 60 * 60;

export async function startIdentityProvider(
  options: IdentityProviderOptions,
): Promise<RunningIdentityProvider> {
  const tenantId = options.tenantId ?? SANDBOX_TENANT_ID;
  const apiAudience = options.apiAudience ?? SANDBOX_API_AUDIENCE;
  const apiScope = `${apiAudience}/${API_SCOPE_NAME}`;
  const accounts = options.accounts ?? SANDBOX_ACCOUNTS;
  const daemonApps = options.daemonApps ?? SANDBOX_DAEMON_APPS;
  const daemonAppsById = new Map(daemonApps.map((app) => [app.clientId, app]));
  /** What a daemon asks for in Entra: the API's `.default` scope, i.e. every app role granted to it. */
  const apiDefaultScope = `${apiAudience}/.default`;
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 3600;
  const consoleClient = options.consoleClient ?? {
    clientId: SANDBOX_CONSOLE_CLIENT_ID,
    redirectUris: [DEFAULT_CONSOLE_REDIRECT_URI],
    postLogoutRedirectUris: [DEFAULT_CONSOLE_REDIRECT_URI],
  };
  const bindHost = options.host ?? "127.0.0.1";
  const tenantPath = `/${tenantId}`;

  const accountsById = new Map(accounts.map((a) => [a.objectId, a]));
  const accountsByUsername = new Map(accounts.map((a) => [a.username.toLowerCase(), a]));
  const store = new SandboxStore();
  // Fixed for the process lifetime so session cookies survive a key rotation's provider rebuild.
  const cookieKeys = [randomBytes(32).toString("base64url")];
  let keys: SigningKey[] = [newSigningKey()];

  const server = https.createServer({ cert: options.tls.cert, key: options.tls.key });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost =
    LOOPBACK.has(bindHost) || bindHost === "0.0.0.0" || bindHost === "::" ? "localhost" : bindHost;
  const url = `https://${urlHost.includes(":") ? `[${urlHost}]` : urlHost}:${port}`;
  const issuer = `${url}${tenantPath}/v2.0`;

  /** Entra writes delegated scopes bare in `scp`; oidc-provider carries the full resource scope. */
  const bareApiScopes = (scope: string | undefined): string[] =>
    (scope ?? "")
      .split(" ")
      .filter((s) => s.startsWith(`${apiAudience}/`))
      .map((s) => s.slice(apiAudience.length + 1));

  function buildProvider(signingKeys: SigningKey[]): Provider {
    const currentKid = signingKeys[0]?.kid;
    const provider = new Provider(issuer, {
      adapter: store.adapterFor,
      clients: [
        {
          client_id: consoleClient.clientId,
          client_name: "Dialpad provisioning console",
          application_type: "web",
          token_endpoint_auth_method: "none",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          redirect_uris: consoleClient.redirectUris,
          post_logout_redirect_uris: consoleClient.postLogoutRedirectUris ?? [],
        },
        ...daemonApps.map((app) => ({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          client_name: app.name,
          token_endpoint_auth_method: "client_secret_post",
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
        })),
      ],
      jwks: { keys: signingKeys.map((k) => k.privateJwk) },
      cookies: { keys: cookieKeys },
      responseTypes: ["code"],
      scopes: ["openid", "offline_access", "profile", "email"],
      claims: {
        openid: ["sub", "oid", "tid", "ver"],
        profile: ["name", "preferred_username", "roles"],
        email: ["email"],
      },
      pkce: { required: () => true },
      async findAccount(_ctx: KoaContextWithOIDC, id: string) {
        const account = accountsById.get(id);
        if (!account) return undefined;
        return {
          accountId: account.objectId,
          async claims() {
            return {
              sub: account.objectId,
              oid: account.objectId,
              tid: tenantId,
              ver: "2.0",
              name: account.name,
              preferred_username: account.username,
              email: account.username,
              ...(account.roles.length > 0 ? { roles: account.roles } : {}),
            };
          },
        };
      },
      // The tenant's admin consented for everyone, as is usual for line-of-business apps, so every
      // requested OIDC scope and the API scope are granted without a consent screen.
      async loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
        const { oidc } = ctx;
        const client = oidc.client;
        const accountId = oidc.session.accountId;
        if (!client || !accountId) return undefined;
        const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(client.clientId);
        const grant =
          (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ??
          new oidc.provider.Grant({ clientId: client.clientId, accountId });
        const oidcScopes = [...oidc.requestParamOIDCScopes].join(" ");
        if (oidcScopes) grant.addOIDCScope(oidcScopes);
        for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
          grant.addResourceScope(indicator, resourceServer.scope);
        }
        await grant.save();
        return grant;
      },
      interactions: {
        url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) =>
          `${tenantPath}/login/${interaction.uid}`,
      },
      // A browser may call the token endpoint only from the origin of one of the client's redirect URIs.
      clientBasedCORS(_ctx: KoaContextWithOIDC, origin: string, client: OidcClient) {
        return client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin);
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // MSAL never sends `resource`; like Entra, the API is implied by asking for its scope.
          async defaultResource(ctx: KoaContextWithOIDC, _client: OidcClient, oneOf?: string[]) {
            if (oneOf) return oneOf.includes(apiAudience) ? apiAudience : oneOf[0];
            const scope = typeof ctx.oidc.params.scope === "string" ? ctx.oidc.params.scope : "";
            const asked = scope.split(" ");
            return asked.includes(apiScope) || asked.includes(apiDefaultScope) ? apiAudience : undefined;
          },
          async useGrantedResource() {
            return true;
          },
          async getResourceServerInfo(_ctx: KoaContextWithOIDC, resourceIndicator: string) {
            if (resourceIndicator !== apiAudience) throw new Error(`unknown resource ${resourceIndicator}`);
            return {
              scope: apiScope,
              audience: apiAudience,
              accessTokenTTL: accessTokenTtl,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: "RS256", kid: currentKid } },
            };
          },
        },
        rpInitiatedLogout: {
          enabled: true,
          async logoutSource(ctx: KoaContextWithOIDC, form: string) {
            ctx.type = "html";
            ctx.body = logoutPage(form);
          },
          async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
            ctx.type = "html";
            // Reached when the app sent no post-logout redirect it may use: offer the way back anyway.
            const consoleUri = consoleClient.postLogoutRedirectUris?.[0];
            ctx.body = messagePage(
              "Signed out",
              "You have signed out of the sandbox tenant. You can close this window.",
              consoleUri ? { href: consoleUri, label: "Sign in again" } : undefined,
            );
          },
        },
      },
      formats: {
        customizers: {
          // Reshape oidc-provider's RFC 9068 token into an Entra v2.0 access token.
          async jwt(_ctx: KoaContextWithOIDC, token: IssuedAccessToken, jwt: StructuredJwt) {
            const { payload } = jwt;
            const daemon = token.accountId ? undefined : daemonAppsById.get(token.clientId);
            if (daemon) {
              jwt.header = { typ: "JWT" };
              jwt.payload = appAccessTokenClaims({
                issuer,
                audience: String(payload.aud),
                tenantId,
                app: daemon,
                issuedAt: Number(payload.iat),
                expiresAt: Number(payload.exp),
                tokenId: String(payload.jti),
              });
              return;
            }
            const account = token.accountId ? accountsById.get(token.accountId) : undefined;
            if (!account) return;
            jwt.header = { typ: "JWT" };
            jwt.payload = accessTokenClaims({
              issuer,
              audience: String(payload.aud),
              tenantId,
              clientId: token.clientId,
              account,
              scopes: bareApiScopes(token.scope),
              issuedAt: Number(payload.iat),
              expiresAt: Number(payload.exp),
              tokenId: String(payload.jti),
            });
          },
        },
      },
      ttl: {
        AccessToken: () => accessTokenTtl,
        AuthorizationCode: () => 600,
        IdToken: () => 3600,
        Interaction: () => 3600,
        Session: () => 24 * 60 * 60,
        Grant: () => 24 * 60 * 60,
        ClientCredentials: () => 600,
        DeviceCode: () => 600,
        BackchannelAuthenticationRequest: () => 600,
        RefreshToken: (ctx: KoaContextWithOIDC | undefined) =>
          ctx?.oidc.entities.RotatedRefreshToken?.remainingTTL ?? SPA_REFRESH_TOKEN_TTL,
      },
      async renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) {
        ctx.type = "html";
        ctx.body = messagePage(
          "Sign-in failed",
          [out.error, out.error_description].filter(Boolean).join(": ") ||
            "The request could not be processed.",
        );
      },
      // Entra's endpoint layout under the tenant segment.
      routes: {
        authorization: AUTHORIZE_PATH,
        token: "/oauth2/v2.0/token",
        end_session: "/oauth2/v2.0/logout",
        jwks: "/discovery/v2.0/keys",
        userinfo: "/oidc/userinfo",
      },
    });
    provider.on("server_error", (_ctx: unknown, error: unknown) => {
      // The message only: stacks of provider internals drown test output and the error carries no secrets.
      console.error(`sandbox identity: ${error instanceof Error ? error.message : String(error)}`);
    });
    return provider;
  }

  let provider = buildProvider(keys);
  let providerCallback = provider.callback();

  const discoveryPath = `${tenantPath}/v2.0/.well-known/openid-configuration`;
  const loginPrefix = `${tenantPath}/login/`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? "/", url);
    const path = requestUrl.pathname;
    if (path.startsWith(loginPrefix)) {
      await handleLogin(req, res, path.slice(loginPrefix.length));
      return;
    }
    if (path === discoveryPath || path.startsWith(`${tenantPath}/`)) {
      // oidc-provider is mounted at the tenant segment; it derives endpoint URLs from `baseUrl`.
      const inner =
        path === discoveryPath ? "/.well-known/openid-configuration" : path.slice(tenantPath.length);
      if (inner === AUTHORIZE_PATH) entraPrompt(requestUrl.searchParams);
      req.url = `${inner}${requestUrl.search}`;
      Object.assign(req, { baseUrl: tenantPath });
      await providerCallback(req, res);
      return;
    }
    sendHtml(
      res,
      404,
      messagePage(
        "Not found",
        `This sandbox identity provider serves tenant ${tenantId}; its authority is ${url}${tenantPath}/.`,
      ),
    );
  }

  async function handleLogin(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      sendHtml(
        res,
        400,
        messagePage(
          "Sign-in expired",
          "This sign-in request has expired. Return to the application and sign in again.",
        ),
      );
      return;
    }
    if (details.uid !== uid) {
      sendHtml(
        res,
        400,
        messagePage(
          "Sign-in expired",
          "This sign-in request does not match your browser session. Start again from the application.",
        ),
      );
      return;
    }

    if (details.prompt.name !== "login") {
      // Only consent can be left (an explicit prompt=consent): grant it as the tenant admin already did.
      const accountId = details.session?.accountId;
      const clientId = String(details.params.client_id);
      if (!accountId) {
        sendHtml(res, 400, messagePage("Sign-in failed", "No signed-in account for this request."));
        return;
      }
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      const effective = grant ?? new provider.Grant({ clientId, accountId });
      const scopes = String(details.params.scope ?? "").split(" ");
      effective.addOIDCScope(scopes.filter((s) => !s.includes("/")).join(" "));
      if (scopes.includes(apiScope)) effective.addResourceScope(apiAudience, apiScope);
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId: await effective.save() } },
        { mergeWithLastSubmission: true },
      );
      return;
    }

    const page = (status: number, username?: string, error?: string) =>
      sendHtml(
        res,
        status,
        loginPage({
          action: `${loginPrefix}${uid}`,
          tenantId,
          clientName: "Dialpad provisioning console",
          username,
          error,
          accounts: accounts.map((a) => ({
            username: a.username,
            password: a.password,
            description: a.roles.length ? a.roles.join(", ") : "no app role (access is refused)",
          })),
        }),
      );

    if (req.method === "GET") {
      const hint = typeof details.params.login_hint === "string" ? details.params.login_hint : undefined;
      page(200, hint);
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "GET, POST" }).end();
      return;
    }
    const form = await readForm(req);
    if (!form) {
      sendHtml(res, 413, messagePage("Request too large", "The sign-in form was too large."));
      return;
    }
    const username = (form.get("username") ?? "").trim();
    const account = accountsByUsername.get(username.toLowerCase());
    if (!account || !samePassword(form.get("password") ?? "", account.password)) {
      page(200, username, "Your username or password is incorrect.");
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.objectId, amr: ["pwd"] } },
      { mergeWithLastSubmission: false },
    );
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`sandbox identity: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent)
        sendHtml(res, 500, messagePage("Server error", "The sandbox identity provider failed."));
      else res.end();
    });
  });

  const httpsFetch = createHttpsFetch(options.tls.cert);
  const discovery = await httpsFetch(`${url}${discoveryPath}`);
  if (!discovery.ok) throw new Error(`sandbox identity discovery failed with HTTP ${discovery.status}`);
  const authorityMetadata = await discovery.text();
  const metadata = JSON.parse(authorityMetadata) as { jwks_uri: string; token_endpoint: string };

  return {
    url,
    authority: `${url}${tenantPath}/`,
    issuer,
    jwksUri: metadata.jwks_uri,
    tokenEndpoint: metadata.token_endpoint,
    daemonApps,
    tenantId,
    clientId: consoleClient.clientId,
    apiAudience,
    authorityMetadata,
    async issueAccessTokenForTesting(username, overrides = {}) {
      const account = accountsByUsername.get(username.toLowerCase());
      if (!account) throw new Error(`no sandbox account ${username}`);
      const signingKey = keys[0];
      if (!signingKey) throw new Error("no signing key");
      const now = Math.floor(Date.now() / 1000);
      const tid = overrides.tenantId ?? tenantId;
      // A token from another tenant names that tenant in `iss` too, exactly as Entra's would.
      const tokenIssuer = `${url}/${tid}/v2.0`;
      const { scp, ...claims } = accessTokenClaims({
        issuer: tokenIssuer,
        audience: overrides.audience ?? apiAudience,
        tenantId: tid,
        clientId: consoleClient.clientId,
        account,
        scopes: overrides.scopes ?? [API_SCOPE_NAME],
        roles: overrides.roles,
        issuedAt: now,
        expiresAt: now + (overrides.expiresInSeconds ?? accessTokenTtl),
        tokenId: randomUUID(),
      });
      const payload = { ...claims, ...(String(scp) ? { scp } : {}), ...overrides.claims };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid: signingKey.kid, typ: "JWT" })
        .sign(signingKey.privateKey);
    },
    async rotateSigningKey() {
      const previous = keys[0];
      keys = previous ? [newSigningKey(), previous] : [newSigningKey()];
      provider = buildProvider(keys);
      providerCallback = provider.callback();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const AUTHORIZE_PATH = "/oauth2/v2.0/authorize";

/**
 * Makes oidc-provider answer MSAL's authorization requests the way Entra does.
 * - OpenID Connect only honours `offline_access` together with `prompt=consent`, and oidc-provider drops
 *   it otherwise, so no refresh token is issued and MSAL's later refresh (which asks for offline_access
 *   again) fails. Entra grants it without asking. Adding `consent` routes the request through the
 *   interaction endpoint, which grants consent at once (the tenant admin consented for everyone).
 * - Entra's `select_account` shows an account picker; here the sign-in form plays that part.
 * `prompt=none` (MSAL's hidden-iframe renewal) is left alone: it must never show a page.
 */
function entraPrompt(params: URLSearchParams): void {
  const prompts = new Set((params.get("prompt") ?? "").split(" ").filter(Boolean));
  if (prompts.has("none")) return;
  if (prompts.delete("select_account")) prompts.add("login");
  if ((params.get("scope") ?? "").split(" ").includes("offline_access")) prompts.add("consent");
  if (prompts.size > 0) params.set("prompt", [...prompts].join(" "));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    // Sign-in pages must not be framed (clickjacking); Entra refuses framing of them as well.
    "content-security-policy": "frame-ancestors 'none'",
  });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function samePassword(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison time does not reveal the expected length.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
