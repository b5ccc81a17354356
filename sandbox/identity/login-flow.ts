import { createHash, randomBytes } from "node:crypto";
import { createHttpsFetch, type FetchLike } from "./https-fetch";

// Drives the sandbox sign-in the way @azure/msal-browser does (discovery at `<authority>v2.0/…`,
// authorization code + PKCE with response_mode=fragment, a CORS token request from the SPA's origin),
// but over plain HTTP so API tests can obtain real tokens without a browser.

export interface SignInOptions {
  /** `https://localhost:PORT/<tenant>/`, as given to MSAL. */
  authority: string;
  clientId: string;
  redirectUri: string;
  /** e.g. "api://dialpad-provisioning/access_as_user openid profile offline_access" (what MSAL sends). */
  scope: string;
  username: string;
  password: string;
  /** PEM of the sandbox certificate, trusted for these requests only. */
  ca: string;
}

export interface TokenSet {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresIn: number;
  scope: string;
}

/** Sign-in did not produce a code; `pageError` is the message the sign-in page showed, if any. */
export class SignInError extends Error {
  override name = "SignInError";
  constructor(
    message: string,
    readonly pageError?: string,
    readonly page?: string,
  ) {
    super(message);
  }
}

export interface OpenIdMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  jwks_uri: string;
}

export interface AuthorizationResult {
  code: string;
  codeVerifier: string;
  metadata: OpenIdMetadata;
  cookies: CookieJar;
}

export async function signInWithPassword(options: SignInOptions): Promise<TokenSet> {
  const fetch = createHttpsFetch(options.ca);
  const authorization = await authorizeWithPassword(options, fetch);
  const { tokens } = await redeemAuthorizationCode({
    tokenEndpoint: authorization.metadata.token_endpoint,
    clientId: options.clientId,
    redirectUri: options.redirectUri,
    code: authorization.code,
    codeVerifier: authorization.codeVerifier,
    fetch,
  });
  return tokens;
}

export async function discover(authority: string, fetch: FetchLike): Promise<OpenIdMetadata> {
  const base = authority.endsWith("/") ? authority : `${authority}/`;
  const response = await fetch(`${base}v2.0/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery failed with HTTP ${response.status}`);
  return (await response.json()) as OpenIdMetadata;
}

/** Runs the browser part of the flow and returns the authorization code delivered to the redirect URI. */
export async function authorizeWithPassword(
  options: Omit<SignInOptions, "ca">,
  fetch: FetchLike,
  cookies: CookieJar = new CookieJar(),
): Promise<AuthorizationResult> {
  const metadata = await discover(options.authority, fetch);
  const codeVerifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const authorize = new URL(metadata.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: "code",
    response_mode: "fragment",
    redirect_uri: options.redirectUri,
    scope: options.scope,
    state,
    nonce: randomBytes(16).toString("base64url"),
    code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    code_challenge_method: "S256",
    login_hint: options.username,
  }).toString();

  const location = await completeSignIn(authorize.href, options, fetch, cookies);
  const params = new URLSearchParams(new URL(location).hash.slice(1));
  if (params.get("error")) {
    throw new SignInError(
      `authorization failed: ${params.get("error")} ${params.get("error_description") ?? ""}`.trim(),
    );
  }
  if (params.get("state") !== state) throw new SignInError("authorization response state does not match");
  if (params.get("iss") !== null && params.get("iss") !== metadata.issuer) {
    throw new SignInError("authorization response came from an unexpected issuer");
  }
  const code = params.get("code");
  if (!code) throw new SignInError("authorization response carries no code");
  return { code, codeVerifier, metadata, cookies };
}

/**
 * Plays the browser from an authorization URL (built by us or by MSAL): follows redirects keeping
 * cookies, submits the sign-in form, and returns the URL the provider finally redirects to under
 * `redirectUri` (carrying the code, or an error) without fetching it.
 */
export async function completeSignIn(
  authorizationUrl: string,
  credentials: { username: string; password: string; redirectUri: string },
  fetch: FetchLike,
  cookies: CookieJar = new CookieJar(),
): Promise<string> {
  let response = await follow(authorizationUrl, { method: "GET" }, fetch, cookies, credentials.redirectUri);
  if (response.kind === "page") {
    const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(response.html)?.[1];
    if (!action) throw new SignInError("the sign-in page has no login form", undefined, response.html);
    const loginUrl = new URL(decodeEntities(action), response.url).href;
    const body = new URLSearchParams({ username: credentials.username, password: credentials.password });
    response = await follow(loginUrl, { method: "POST", body }, fetch, cookies, credentials.redirectUri);
  }
  if (response.kind === "page") {
    const alert = /role="alert"[^>]*>([^<]*)</i.exec(response.html)?.[1];
    const pageError = alert ? decodeEntities(alert).trim() : undefined;
    throw new SignInError(
      `sign-in did not complete: ${pageError ?? "no code was returned"}`,
      pageError,
      response.html,
    );
  }
  return response.location;
}

export interface TokenRequestResult {
  tokens: TokenSet;
  /** Response headers, so callers can check what a browser would see (CORS). */
  headers: Headers;
}

export async function redeemAuthorizationCode(input: {
  tokenEndpoint: string;
  clientId: string;
  redirectUri: string;
  code: string;
  codeVerifier: string;
  fetch: FetchLike;
}): Promise<TokenRequestResult> {
  return tokenRequest(input.tokenEndpoint, new URL(input.redirectUri).origin, input.fetch, {
    grant_type: "authorization_code",
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    code: input.code,
    code_verifier: input.codeVerifier,
  });
}

export async function refreshTokens(input: {
  tokenEndpoint: string;
  clientId: string;
  /** The SPA's origin, sent as `Origin` like a browser does. */
  origin: string;
  refreshToken: string;
  scope: string;
  fetch: FetchLike;
}): Promise<TokenRequestResult> {
  return tokenRequest(input.tokenEndpoint, input.origin, input.fetch, {
    grant_type: "refresh_token",
    client_id: input.clientId,
    refresh_token: input.refreshToken,
    scope: input.scope,
  });
}

async function tokenRequest(
  endpoint: string,
  origin: string,
  fetch: FetchLike,
  form: Record<string, string>,
): Promise<TokenRequestResult> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { origin, accept: "application/json" },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    // OAuth error fields only; the request carried a code or refresh token that must not be echoed.
    throw new Error(
      `token request failed (HTTP ${response.status}): ${String(body.error)} ${String(body.error_description ?? "")}`.trim(),
    );
  }
  const text = (name: string) => (typeof body[name] === "string" ? body[name] : "");
  return {
    tokens: {
      accessToken: text("access_token"),
      idToken: text("id_token"),
      refreshToken: text("refresh_token"),
      expiresIn: Number(body.expires_in),
      scope: text("scope"),
    },
    headers: response.headers,
  };
}

type Hop =
  { kind: "page"; url: string; status: number; html: string } | { kind: "redirect"; location: string };

/** Follows redirects with cookies until an HTML page or a redirect to `redirectUri` (which is never fetched). */
async function follow(
  start: string,
  init: { method: "GET" | "POST"; body?: URLSearchParams },
  fetch: FetchLike,
  cookies: CookieJar,
  redirectUri: string,
): Promise<Hop> {
  let url = start;
  let request = init;
  for (let hop = 0; hop < 10; hop++) {
    const cookie = cookies.header(url);
    const response = await fetch(url, {
      method: request.method,
      headers: { accept: "text/html", ...(cookie ? { cookie } : {}) },
      body: request.body,
    });
    cookies.store(response.headers.getSetCookie());
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url).href;
      if (next.startsWith(redirectUri)) return { kind: "redirect", location: next };
      url = next;
      request = { method: "GET" };
      continue;
    }
    return { kind: "page", url, status: response.status, html: await response.text() };
  }
  throw new SignInError("too many redirects during sign-in");
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** Just enough of RFC 6265 for one host: Path scoping, deletion by Max-Age/Expires. */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      if (separator < 1) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      let path = "/";
      let expired = value === "";
      for (const attribute of attributes) {
        const [key = "", attributeValue = ""] = attribute.split("=").map((s) => s.trim());
        if (key.toLowerCase() === "path") path = attributeValue || "/";
        if (key.toLowerCase() === "max-age" && Number(attributeValue) <= 0) expired = true;
        if (key.toLowerCase() === "expires" && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }

  has(name: string): boolean {
    return [...this.#cookies.values()].some((c) => c.name === name);
  }
}
