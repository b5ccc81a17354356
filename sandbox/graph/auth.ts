import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  SignJWT,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  decodeProtectedHeader,
  errors as joseErrors,
  type CryptoKey,
  type JWK,
} from "jose";

/**
 * The sign-in half of the emulator, laid out like login.microsoftonline.com: OpenID discovery,
 * signing keys, and a client-credentials token endpoint that issues Graph access tokens shaped like
 * Entra's (RS256 with kid, v1.0 claims, aud https://graph.microsoft.com, application roles).
 */

export const GRAPH_RESOURCE = "https://graph.microsoft.com";
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/**
 * Directory.Read.All lets the sandbox app list the tenant's directory extensions (getAvailableExtensionProperties
 * needs it), so Save can check extension attributes against the directory.
 */
export const DEFAULT_GRAPH_ROLES = [
  "User.Read.All",
  "Group.Read.All",
  "Application.Read.All",
  "Directory.Read.All",
] as const;
const TOKEN_LIFETIME_SECONDS = 3599;

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  /** Application permissions granted to the app; default DEFAULT_GRAPH_ROLES. */
  roles?: string[];
}

export interface AadError {
  status: number;
  body: {
    error: string;
    error_description: string;
    error_codes: number[];
    timestamp: string;
    trace_id: string;
    correlation_id: string;
    error_uri: string;
  };
}

export interface TokenSuccess {
  token_type: "Bearer";
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

export interface VerifiedToken {
  appid: string;
  roles: string[];
  tid: string;
}

export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; message: string };

function aadTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
}

export class SignIn {
  private constructor(
    readonly tenantId: string,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly jwk: JWK,
    private readonly kid: string,
    private readonly clients: ClientRegistration[],
  ) {}

  static async create(tenantId: string, clients: ClientRegistration[]): Promise<SignIn> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(publicKey);
    // Entra's kid and x5t are the base64url SHA-1 thumbprint of the signing certificate; there is no
    // certificate here, so the thumbprint is taken over the key modulus instead.
    const kid = createHash("sha1")
      .update(jwk.n ?? "")
      .digest("base64url");
    return new SignIn(tenantId, privateKey, publicKey, jwk, kid, clients);
  }

  /** Tenant ids Entra accepts in the authority path: the GUID or a verified domain. */
  knowsTenant(tenant: string): boolean {
    const t = tenant.toLowerCase();
    return t === this.tenantId.toLowerCase() || t === "contoso.example" || t === "contoso.onmicrosoft.com";
  }

  openIdConfiguration(origin: string, tenant: string): Record<string, unknown> {
    const base = `${origin}/${this.tenantId}`;
    return {
      token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: [
        "sub",
        "iss",
        "cloud_instance_name",
        "cloud_instance_host_name",
        "cloud_graph_host_name",
        "msgraph_host",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "acr",
        "nonce",
        "preferred_username",
        "name",
        "tid",
        "ver",
        "at_hash",
        "c_hash",
        "email",
      ],
      kerberos_endpoint: `${origin}/${tenant}/kerberos`,
      tenant_region_scope: "NA",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
      rbac_url: "https://pas.windows.net",
    };
  }

  jwks(origin: string): { keys: Record<string, unknown>[] } {
    return {
      keys: [
        {
          kty: "RSA",
          use: "sig",
          kid: this.kid,
          x5t: this.kid,
          n: this.jwk.n,
          e: this.jwk.e,
          issuer: `${origin}/${this.tenantId}/v2.0`,
        },
      ],
    };
  }

  aadError(status: number, error: string, code: number, description: string): AadError {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = aadTimestamp();
    return {
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      },
    };
  }

  unknownTenant(tenant: string): AadError {
    return this.aadError(
      400,
      "invalid_request",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }

  /** Handles a POST to /{tenant}/oauth2/v2.0/token with a form body. */
  async token(
    tenant: string,
    form: URLSearchParams,
    authorization: string | undefined,
  ): Promise<{ status: number; body: TokenSuccess | AadError["body"] }> {
    const fail = (e: AadError) => ({ status: e.status, body: e.body });
    if (!this.knowsTenant(tenant)) return fail(this.unknownTenant(tenant));

    const grantType = form.get("grant_type");
    if (!grantType)
      return fail(
        this.aadError(
          400,
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'grant_type'.",
        ),
      );
    if (grantType !== "client_credentials") {
      return fail(
        this.aadError(
          400,
          "unsupported_grant_type",
          70003,
          `The app requested an unsupported grant type '${grantType}'. This sandbox supports only client_credentials.`,
        ),
      );
    }

    let clientId = form.get("client_id") ?? undefined;
    let clientSecret = form.get("client_secret") ?? undefined;
    if (authorization?.toLowerCase().startsWith("basic ")) {
      const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        // RFC 6749 §2.3.1: both parts are form-url-encoded before being joined.
        clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
      }
    }
    if (!clientId)
      return fail(
        this.aadError(
          400,
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'client_id'.",
        ),
      );

    const scope = form.get("scope");
    if (!scope)
      return fail(
        this.aadError(
          400,
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'scope'.",
        ),
      );

    const client = this.clients.find((c) => c.clientId.toLowerCase() === clientId.toLowerCase());
    if (!client) {
      return fail(
        this.aadError(
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        ),
      );
    }
    if (form.get("client_assertion")) {
      return fail(
        this.aadError(
          401,
          "invalid_client",
          700027,
          "Client assertion failed signature validation. This sandbox accepts client secrets only.",
        ),
      );
    }
    if (!clientSecret) {
      return fail(
        this.aadError(
          401,
          "invalid_client",
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      );
    }
    if (!secretsEqual(clientSecret, client.clientSecret)) {
      return fail(
        this.aadError(
          401,
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
        ),
      );
    }

    const scopes = scope.split(/\s+/).filter(Boolean);
    const graphScope = scopes.find((s) => s.toLowerCase().endsWith("/.default"));
    if (!graphScope || scopes.length !== 1) {
      return fail(
        this.aadError(
          400,
          "invalid_scope",
          1002012,
          `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        ),
      );
    }
    const resource = graphScope.slice(0, -"/.default".length).replace(/\/$/, "");
    if (resource.toLowerCase() !== GRAPH_RESOURCE && resource.toLowerCase() !== GRAPH_APP_ID) {
      return fail(
        this.aadError(
          400,
          "invalid_resource",
          500011,
          `The resource principal named ${resource} was not found in the tenant named ${this.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        ),
      );
    }

    const accessToken = await this.issueAccessToken(client);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: TOKEN_LIFETIME_SECONDS,
        ext_expires_in: TOKEN_LIFETIME_SECONDS,
        access_token: accessToken,
      },
    };
  }

  /** Signs a Graph app-only token. Exposed for tests that need expired or otherwise odd tokens. */
  async issueAccessToken(
    client: ClientRegistration,
    options: { lifetimeSeconds?: number; audience?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS;
    // Graph's application manifest asks for v1.0 tokens, so even the v2.0 endpoint issues them with
    // the sts.windows.net issuer; clients must treat Graph tokens as opaque anyway.
    const servicePrincipalOid = uuidFrom(`sp:${client.clientId}`);
    return new SignJWT({
      aio: randomUUID().replace(/-/g, ""),
      app_displayname: "Dialpad Provisioning",
      appid: client.clientId,
      appidacr: "1",
      idp: `https://sts.windows.net/${this.tenantId}/`,
      idtyp: "app",
      oid: servicePrincipalOid,
      roles: client.roles ?? [...DEFAULT_GRAPH_ROLES],
      tid: this.tenantId,
      uti: randomUUID().replace(/-/g, "").slice(0, 22),
      ver: "1.0",
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: this.kid, x5t: this.kid })
      .setIssuer(`https://sts.windows.net/${this.tenantId}/`)
      .setAudience(options.audience ?? GRAPH_RESOURCE)
      .setSubject(servicePrincipalOid)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(now + lifetime)
      .sign(this.privateKey);
  }

  /** Validates a bearer token the way Graph does, with Graph's messages for each failure. */
  async verify(authorization: string | undefined): Promise<TokenCheck> {
    if (!authorization || !/^bearer\s+/i.test(authorization))
      return { ok: false, message: "Access token is empty." };
    const token = authorization.replace(/^bearer\s+/i, "").trim();
    if (!token) return { ok: false, message: "Access token is empty." };
    if (token.split(".").length !== 3) {
      return {
        ok: false,
        message:
          "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE Compact Serialization Format.",
      };
    }
    try {
      const header = decodeProtectedHeader(token);
      if (header.kid !== this.kid)
        return {
          ok: false,
          message: "Access token validation failure. Invalid signing key (kid not found).",
        };
    } catch {
      return { ok: false, message: "IDX14102: Unable to decode the header as Base64Url encoded string." };
    }
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ["RS256"],
        clockTolerance: 300,
      });
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!audiences.some((a) => a === GRAPH_RESOURCE || a === `${GRAPH_RESOURCE}/` || a === GRAPH_APP_ID)) {
        return { ok: false, message: "Access token validation failure. Invalid audience." };
      }
      if (payload.tid !== this.tenantId)
        return { ok: false, message: "Access token validation failure. Invalid issuer." };
      return {
        ok: true,
        token: {
          appid: String(payload.appid ?? ""),
          roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
          tid: String(payload.tid),
        },
      };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        return { ok: false, message: "Lifetime validation failed, the token is expired." };
      return { ok: false, message: "Access token validation failure." };
    }
  }
}

function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A stable GUID-shaped value derived from a string. */
export function uuidFrom(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
