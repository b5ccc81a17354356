// oidc-provider 9 ships no type declarations and @types/oidc-provider is not installed. This declares only
// the surface the sandbox uses, typed as narrowly as the sandbox relies on; widen it when using more.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface OidcClient {
    clientId: string;
    redirectUris: string[];
    clientAuthMethod: string;
  }

  export interface OidcSession {
    accountId?: string;
    grantIdFor(clientId: string): string | undefined;
  }

  export interface OidcContext {
    route: string;
    provider: Provider;
    client?: OidcClient;
    session: OidcSession;
    params: Record<string, unknown>;
    result?: { consent?: { grantId?: string } };
    requestParamOIDCScopes: Set<string>;
    resourceServers: Record<string, { scope: string }>;
    entities: { RotatedRefreshToken?: { remainingTTL: number } };
  }

  export interface KoaContextWithOIDC {
    oidc: OidcContext;
    type: string;
    body: unknown;
    status: number;
    host: string;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; amr?: string[] };
    consent?: { grantId: string };
  }

  export class Grant {
    constructor(properties: { clientId: string; accountId: string });
    jti: string;
    accountId: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  /** The token object handed to formats.customizers.jwt. */
  export interface IssuedAccessToken {
    accountId?: string;
    clientId: string;
    scope?: string;
  }

  export interface StructuredJwt {
    header: Record<string, unknown> | undefined;
    payload: Record<string, unknown>;
  }

  export interface AdapterPayload {
    [key: string]: unknown;
    uid?: string;
    userCode?: string;
    grantId?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type Configuration = Record<string, unknown>;

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
