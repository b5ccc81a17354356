import type { SandboxAccount } from "./server";

export interface AccessTokenClaimsInput {
  issuer: string;
  audience: string;
  tenantId: string;
  clientId: string;
  account: SandboxAccount;
  /** Bare scope names as Entra writes them in `scp` (no `api://…/` prefix). */
  scopes: string[];
  roles?: string[];
  issuedAt: number;
  expiresAt: number;
  tokenId: string;
}

/**
 * The claims of an Entra v2.0 delegated access token, in one place so tokens minted by the provider and
 * tokens minted for tests cannot drift apart. `sub` equals `oid` here (Entra's `sub` is pairwise per
 * app); code under test must key users on `oid`, which is what the verifier does.
 */
export function accessTokenClaims(input: AccessTokenClaimsInput): Record<string, unknown> {
  const roles = input.roles ?? input.account.roles;
  return {
    aud: input.audience,
    iss: input.issuer,
    iat: input.issuedAt,
    nbf: input.issuedAt,
    exp: input.expiresAt,
    sub: input.account.objectId,
    oid: input.account.objectId,
    tid: input.tenantId,
    preferred_username: input.account.username,
    name: input.account.name,
    // Entra omits the claim entirely when the user holds no app role.
    ...(roles.length > 0 ? { roles } : {}),
    scp: input.scopes.join(" "),
    azp: input.clientId,
    azpacr: "0",
    ver: "2.0",
    uti: input.tokenId,
  };
}

export interface AppAccessTokenClaimsInput {
  issuer: string;
  audience: string;
  tenantId: string;
  app: { clientId: string; objectId: string; roles: readonly string[] };
  issuedAt: number;
  expiresAt: number;
  tokenId: string;
}

/**
 * The claims of an Entra v2.0 app-only access token (client-credentials grant): the app's roles and no
 * `scp`; `oid`/`sub` are the service principal's object id. `idtyp: app` is what Entra adds when the
 * optional claim is configured; the verifier must work with and without it.
 */
export function appAccessTokenClaims(input: AppAccessTokenClaimsInput): Record<string, unknown> {
  return {
    aud: input.audience,
    iss: input.issuer,
    iat: input.issuedAt,
    nbf: input.issuedAt,
    exp: input.expiresAt,
    sub: input.app.objectId,
    oid: input.app.objectId,
    tid: input.tenantId,
    ...(input.app.roles.length > 0 ? { roles: [...input.app.roles] } : {}),
    azp: input.app.clientId,
    // "1": the client authenticated with a secret.
    azpacr: "1",
    idtyp: "app",
    ver: "2.0",
    uti: input.tokenId,
  };
}
