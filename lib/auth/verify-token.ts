import {
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
} from "jose";

export const ROLES = { admin: "Provisioning.Admin", reader: "Provisioning.Reader" } as const;
export type Role = (typeof ROLES)[keyof typeof ROLES];

/**
 * Who is calling. A signed-in user (delegated token) or an application acting as itself (app-only token
 * from the client-credentials grant, as a pipeline or runbook holds). For an app, `objectId` is its
 * service principal's object id and `upn` a label naming the app, so audit entries say which app acted.
 */
export interface Principal {
  kind: "user" | "app";
  objectId: string;
  tenantId: string;
  upn: string;
  name: string;
  roles: Role[];
  /** The application the token was issued to (`azp`, or `appid` in v1.0 tokens). */
  clientId?: string;
}

export type AuthErrorCode =
  | "missing_token"
  | "invalid_token"
  | "expired_token"
  | "wrong_audience"
  | "wrong_issuer"
  | "wrong_tenant"
  | "forbidden";

/** A refusal the API reports to the caller: 401 means "sign in (again)", 403 means "signed in, not allowed". */
export class AuthError extends Error {
  override name = "AuthError";
  readonly status: 401 | 403;
  readonly code: AuthErrorCode;

  constructor(status: 401 | 403, code: AuthErrorCode, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface TokenVerifierOptions {
  /**
   * Expected `iss`. For a multi-tenant app registration use Entra's template
   * `https://login.microsoftonline.com/{tenantid}/v2.0`: `{tenantid}` is replaced by the token's `tid`
   * (which must then be in `allowedTenantIds`).
   */
  issuer: string;
  /** Expected `aud`, the API's Application ID URI (or its client id). */
  audience: string;
  jwksUri: string;
  allowedTenantIds?: string[];
  /** Default 60. */
  clockToleranceSeconds?: number;
  /**
   * Delegated scope a user's token must carry in `scp`: the bare name Entra writes there, or the full
   * scope as configured (`api://…/custom.scope`), of which the last path segment counts. Default
   * "access_as_user". App-only tokens carry no `scp` and are judged by their app roles instead.
   */
  requiredScope?: string;
  /**
   * Minimum time between JWKS refetches triggered by an unknown `kid`. Default 1000 ms: a new signing key
   * is accepted about a second after it first appears (Entra normally pre-publishes keys, so this only
   * matters on emergency rotation), while a flood of tokens with invented `kid`s still costs at most one
   * JWKS request per second per process; jose also shares one in-flight request among concurrent callers.
   * jose's own default of 30 s would reject a freshly rotated key for up to half a minute.
   */
  jwksCooldownMs?: number;
  /**
   * Fetch used for the JWKS. The default global fetch trusts NODE_EXTRA_CA_CERTS, which the launcher sets
   * for the sandbox; tests running in-process pass one that trusts the sandbox certificate.
   */
  fetch?: FetchImplementation;
}

export type AccessTokenVerifier = (authorizationHeader: string | null | undefined) => Promise<Principal>;

const KNOWN_ROLES = new Set<string>(Object.values(ROLES));
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i;
const TENANT_PLACEHOLDER = "{tenantid}";
const DEFAULT_SCOPE = "access_as_user";

/** `api://dialpad-provisioning/access_as_user` → `access_as_user`, the form Entra writes into `scp`. */
export function bareScopeName(scope: string): string {
  const trimmed = scope.trim().replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export function createAccessTokenVerifier(options: TokenVerifierOptions): AccessTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.jwksCooldownMs ?? 1000,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
  const issuerIsTemplate = options.issuer.includes(TENANT_PLACEHOLDER);
  const allowedTenants = options.allowedTenantIds ? new Set(options.allowedTenantIds) : undefined;
  const requiredScope = bareScopeName(options.requiredScope ?? DEFAULT_SCOPE);

  return async (authorizationHeader) => {
    if (!authorizationHeader?.trim()) {
      throw new AuthError(401, "missing_token", "No access token: send Authorization: Bearer <token>.");
    }
    const match = BEARER.exec(authorizationHeader.trim());
    const token = match?.[1];
    if (!token) {
      throw new AuthError(401, "invalid_token", "The Authorization header is not a Bearer JWT.");
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: ["RS256"],
        audience: options.audience,
        // A templated issuer is checked below, once the signature has vouched for `tid`.
        issuer: issuerIsTemplate ? undefined : options.issuer,
        clockTolerance: options.clockToleranceSeconds ?? 60,
        requiredClaims: ["exp", "iss", "tid", "oid"],
      }));
    } catch (error) {
      throw toAuthError(error);
    }

    const tenantId = String(payload.tid);
    if (issuerIsTemplate && payload.iss !== options.issuer.replace(TENANT_PLACEHOLDER, tenantId)) {
      throw new AuthError(401, "wrong_issuer", "The access token was issued by an unexpected issuer.");
    }
    if (allowedTenants && !allowedTenants.has(tenantId)) {
      throw new AuthError(401, "wrong_tenant", `Tenant ${tenantId} is not allowed to use this API.`);
    }
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is Role => typeof r === "string" && KNOWN_ROLES.has(r))
      : [];
    const scopes = typeof payload.scp === "string" ? payload.scp.split(" ").filter(Boolean) : [];
    // Entra adds `idtyp` only when the optional claim is configured, so its absence decides nothing;
    // when present it must agree with the token's shape.
    const tokenType = payload.idtyp;
    const upn = [payload.preferred_username, payload.upn, payload.unique_name].find(
      (v) => typeof v === "string",
    );
    // A token naming a user is never app-only: without `scp` it is an ID token or one for another
    // scope, and a user's app roles must not work without the delegated scope.
    if (scopes.length === 0 && tokenType !== "user" && upn === undefined) {
      return appPrincipal(payload, tenantId, roles);
    }
    if (tokenType === "app") {
      throw new AuthError(
        401,
        "invalid_token",
        "An app-only access token (idtyp app) must not carry scopes.",
      );
    }
    if (!scopes.includes(requiredScope)) {
      // Tokens for other scopes of the same API are not sign-ins to this console.
      throw new AuthError(401, "invalid_token", `The access token lacks the ${requiredScope} scope.`);
    }
    const clientId = typeof payload.azp === "string" ? payload.azp : undefined;
    return {
      kind: "user",
      objectId: String(payload.oid),
      tenantId,
      upn: typeof upn === "string" ? upn : "",
      name: typeof payload.name === "string" ? payload.name : "",
      roles,
      ...(clientId ? { clientId } : {}),
    };
  };
}

/**
 * A client-credentials token: the app acts as itself, with the app roles an admin assigned to it
 * (Entra: API permissions → application permission, admin consent). Without a known role it is still a
 * principal, which requireRole then refuses with 403 — the fix is a role assignment, not a new token.
 */
function appPrincipal(payload: JWTPayload, tenantId: string, roles: Role[]): Principal {
  const clientId = [payload.azp, payload.appid].find((v): v is string => typeof v === "string" && v !== "");
  if (!clientId) {
    throw new AuthError(401, "invalid_token", "The app-only access token names no application (azp/appid).");
  }
  const displayName = typeof payload.app_displayname === "string" ? payload.app_displayname : "";
  return {
    kind: "app",
    objectId: String(payload.oid),
    tenantId,
    upn: `app:${clientId}`,
    name: displayName || `Application ${clientId}`,
    roles,
    clientId,
  };
}

function toAuthError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) {
    return new AuthError(401, "expired_token", "The access token has expired.");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud")
      return new AuthError(401, "wrong_audience", "The access token is for a different audience.");
    if (error.claim === "iss")
      return new AuthError(401, "wrong_issuer", "The access token was issued by an unexpected issuer.");
    return new AuthError(401, "invalid_token", `The access token's ${error.claim} claim is invalid.`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthError(401, "invalid_token", "The access token was signed with an unknown key.");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError(
      401,
      "invalid_token",
      "The access token uses a signing algorithm that is not accepted.",
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError(401, "invalid_token", "The access token signature is invalid.");
  }
  // jose throws its bare JOSEError only for a key set response that is not 200 or not JSON; network
  // failures arrive as non-jose errors. Either way the API cannot judge the token: an outage, not a 401.
  if (
    !(error instanceof errors.JOSEError) ||
    error.constructor === errors.JOSEError ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid
  ) {
    return new SigningKeysUnavailableError(error);
  }
  return new AuthError(401, "invalid_token", "The access token is malformed.");
}

/** The issuer's signing keys could not be loaded; routes should answer 503, not 401. */
export class SigningKeysUnavailableError extends Error {
  override name = "SigningKeysUnavailableError";
  constructor(cause: unknown) {
    super(
      `Could not load the token signing keys: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Admin may read and write; Reader may only read; no role means no access. */
export function requireRole(principal: Principal, needed: "read" | "write"): void {
  const allowed = needed === "write" ? [ROLES.admin] : [ROLES.admin, ROLES.reader];
  if (!principal.roles.some((role) => allowed.includes(role))) {
    throw new AuthError(
      403,
      "forbidden",
      needed === "write"
        ? `This action needs the ${ROLES.admin} role.`
        : `Reading needs the ${ROLES.reader} or ${ROLES.admin} role.`,
    );
  }
}
