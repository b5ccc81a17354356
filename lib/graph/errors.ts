export interface GraphRequestInfo {
  method: string;
  url: string;
}

export interface GraphErrorInit {
  status?: number;
  /** Graph's `error.code` (e.g. Request_ResourceNotFound, Authorization_RequestDenied), or ours for transport failures. */
  code: string;
  message: string;
  retryable: boolean;
  request: GraphRequestInfo;
  retryAfterMs?: number;
  /** Graph's request-id, for Microsoft support. */
  requestId?: string;
  attempts?: number;
}

export class GraphError extends Error {
  override readonly name = "GraphError";
  readonly status?: number;
  readonly code: string;
  readonly retryable: boolean;
  readonly request: GraphRequestInfo;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  readonly attempts?: number;

  constructor(init: GraphErrorInit) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    this.request = init.request;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
    this.attempts = init.attempts;
  }

  /** A delta token that Graph no longer accepts: the caller must restart with a full (initial) sync. */
  get resyncRequired(): boolean {
    return this.status === 410;
  }

  toJSON(): GraphErrorInit {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      request: this.request,
      retryAfterMs: this.retryAfterMs,
      requestId: this.requestId,
      attempts: this.attempts,
    };
  }
}

export type GraphAuthErrorCode =
  | "InvalidClientSecret"
  | "ExpiredClientSecret"
  | "UnknownClient"
  | "UnknownTenant"
  | "AuthorityUnreachable"
  | "UntrustedAuthority"
  | "TokenRequestFailed";

/** Token acquisition failed; `message` is written for the admin and never contains the client secret. */
export class GraphAuthError extends Error {
  override readonly name = "GraphAuthError";
  readonly code: GraphAuthErrorCode;
  /** AADSTS code or MSAL error code behind it. */
  readonly causeCode?: string;

  constructor(code: GraphAuthErrorCode, message: string, causeCode?: string) {
    super(message);
    this.code = code;
    this.causeCode = causeCode;
  }
}
