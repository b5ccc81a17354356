import { OUTBOUND_CONNECT_FAILED } from "../net/connect-error";

/**
 * Typed SCIM failures, named with the error codes Entra shows in its provisioning logs, so our logs read
 * like the ones admins already know (reference §1g error catalogue, §1a error handling).
 */

export type EntraErrorCode =
  | "Unauthorized"
  | "InsufficientRights"
  | "MethodNotAllowed"
  | "NotPermitted"
  | "Conflict"
  | "EntryConflict"
  | "TooManyRequests"
  | "InternalServerError"
  | "Timeout"
  | "InvalidAnchor"
  | "NotImplemented"
  | "UnprocessableEntity"
  | "WebExceptionProtocolError"
  | "SchemaAttributeNotFound"
  | "MandatoryFieldsMissing"
  | "LicenseLimitExceeded"
  | "DuplicateTargetEntries"
  | "SystemForCrossDomainIdentityManagementServiceIncompatible"
  | "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"
  // Not in Entra's catalogue; Entra folds these into WebExceptionProtocolError, which tells an admin
  // nothing. Keeping them apart lets Test Connection and the logs say what actually went wrong.
  | "BadRequest"
  | "RedirectRefused"
  | "ConnectionFailed"
  | "TlsFailure";

export interface ScimRequestInfo {
  method: string;
  /** With credential query parameters removed. */
  url: string;
  /** JSON text with passwords and the token removed. */
  body?: string;
}

export interface ScimResponseInfo {
  status: number;
  contentType?: string;
  /** First few KB of the body, token removed. */
  bodyExcerpt?: string;
  location?: string;
}

export interface ScimErrorInit {
  code: EntraErrorCode;
  detail: string;
  retryable: boolean;
  request: ScimRequestInfo;
  status?: number;
  scimType?: string;
  retryAfterMs?: number;
  response?: ScimResponseInfo;
  /** Low-level cause code (ECONNREFUSED, CERT_HAS_EXPIRED, …) for network failures. */
  causeCode?: string;
  attempts?: number;
}

export class ScimError extends Error {
  override readonly name = "ScimError";
  readonly code: EntraErrorCode;
  readonly detail: string;
  readonly retryable: boolean;
  readonly request: ScimRequestInfo;
  readonly status?: number;
  readonly scimType?: string;
  readonly retryAfterMs?: number;
  readonly response?: ScimResponseInfo;
  readonly causeCode?: string;
  readonly attempts?: number;

  constructor(init: ScimErrorInit) {
    super(
      `${init.code}: ${init.detail} (${init.request.method} ${init.request.url}${init.status ? ` → HTTP ${init.status}` : ""})`,
    );
    this.code = init.code;
    this.detail = init.detail;
    this.retryable = init.retryable;
    this.request = init.request;
    this.status = init.status;
    this.scimType = init.scimType;
    this.retryAfterMs = init.retryAfterMs;
    this.response = init.response;
    this.causeCode = init.causeCode;
    this.attempts = init.attempts;
  }

  /** Plain data for logs and job records; never contains the token (the client scrubs every field). */
  toJSON(): ScimErrorInit {
    return {
      code: this.code,
      detail: this.detail,
      retryable: this.retryable,
      request: this.request,
      status: this.status,
      scimType: this.scimType,
      retryAfterMs: this.retryAfterMs,
      response: this.response,
      causeCode: this.causeCode,
      attempts: this.attempts,
    };
  }
}

export function isScimError(value: unknown): value is ScimError {
  return value instanceof ScimError;
}

/** Where in the request a 404 happened decides whether it means "that linked object is gone". */
export type RequestKind = "resource" | "collection" | "discovery";

export function classifyHttpStatus(
  status: number,
  scimType: string | undefined,
  kind: RequestKind,
): { code: EntraErrorCode; retryable: boolean } {
  if (status === 429) return { code: "TooManyRequests", retryable: true };
  if (status === 504) return { code: "Timeout", retryable: true };
  if (status === 501) return { code: "NotImplemented", retryable: false };
  if (status >= 500) return { code: "InternalServerError", retryable: true };
  switch (status) {
    case 400:
      if (scimType === "uniqueness") return { code: "EntryConflict", retryable: false };
      if (scimType === "invalidPath" || scimType === "noTarget")
        return { code: "SchemaAttributeNotFound", retryable: false };
      return { code: "BadRequest", retryable: false };
    case 401:
      return { code: "Unauthorized", retryable: false };
    case 403:
      return { code: "InsufficientRights", retryable: false };
    case 404:
      // A 404 on /Users/{id} means the object we linked to was deleted in the target (Entra:
      // InvalidAnchor). A 404 on a collection or filter query means the endpoint itself is not
      // SCIM-compliant (Entra quarantines with "SCIM Compliance issue").
      return kind === "resource"
        ? { code: "InvalidAnchor", retryable: false }
        : { code: "SystemForCrossDomainIdentityManagementServiceIncompatible", retryable: false };
    case 405:
      return { code: "MethodNotAllowed", retryable: false };
    case 409:
      return { code: scimType === "uniqueness" ? "EntryConflict" : "Conflict", retryable: false };
    case 412:
      return { code: "Conflict", retryable: false };
    case 422:
      return { code: "UnprocessableEntity", retryable: false };
    default:
      return { code: "WebExceptionProtocolError", retryable: false };
  }
}

const TLS_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/** `unreachable`: the outbound fetch's one "could not connect", which hides refused, reset and filtered. */
export type NetworkFailureKind = "dns" | "refused" | "unreachable" | "tls" | "reset" | "timeout" | "other";

export interface NetworkFailure {
  kind: NetworkFailureKind;
  causeCode?: string;
  message: string;
}

function codesInCauseChain(error: unknown): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const record = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === "string") codes.push(record.code);
    if (typeof record.message === "string") messages.push(record.message);
    queue.push(record.cause);
    // Node's happy-eyeballs connect reports an AggregateError with one error per address tried.
    if (Array.isArray(record.errors)) queue.push(...record.errors);
  }
  return { codes, messages };
}

/** Sorts what global fetch threw into the few cases an admin can act on. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  const { codes, messages } = codesInCauseChain(error);
  const message = messages.filter((text) => text !== "fetch failed").join(": ") || "network request failed";
  const tls = codes.find(
    (code) => TLS_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL"),
  );
  if (tls) return { kind: "tls", causeCode: tls, message };
  const dns = codes.find((code) => code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME");
  if (dns) return { kind: "dns", causeCode: dns, message };
  if (codes.includes(OUTBOUND_CONNECT_FAILED))
    return { kind: "unreachable", causeCode: OUTBOUND_CONNECT_FAILED, message };
  if (codes.includes("ECONNREFUSED")) return { kind: "refused", causeCode: "ECONNREFUSED", message };
  const timeout = codes.find(
    (code) =>
      code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT",
  );
  if (timeout) return { kind: "timeout", causeCode: timeout, message };
  const reset = codes.find(
    (code) =>
      code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED",
  );
  if (reset) return { kind: "reset", causeCode: reset, message };
  return { kind: "other", causeCode: codes[0], message };
}

export interface ScimErrorDescription {
  errorCode: string;
  reason: string;
  recommendedAction: string;
  /**
   * Entra's provisioningStatusErrorCategory. We use `nonServiceFailure` for failures that need a change
   * outside the provisioning service (credentials, target data, target compliance) and `failure` for
   * operational failures that a later retry can clear (throttling, outages, timeouts, network).
   */
  errorCategory: "failure" | "nonServiceFailure";
}

const RECOMMENDED_ACTIONS: Record<EntraErrorCode, string> = {
  Unauthorized:
    "The target rejected the secret token. Create a new Dialpad API key (Admin settings › My Company › Authentication › API Keys), paste it as the Secret Token and select Test Connection.",
  InsufficientRights:
    "The secret token is valid but not allowed to do this. Use an API key created by a Dialpad Company Admin with SCIM access.",
  MethodNotAllowed:
    "The target does not allow this operation on this resource. Review the attribute mappings and the target's supported operations.",
  NotPermitted: "The target does not permit this operation. Review the target's configuration.",
  Conflict:
    "The target reported a conflict. Correct the conflicting attribute values in Microsoft Entra ID or Dialpad, or review the matching attribute if the existing account should have been matched.",
  EntryConflict:
    "Another account in the target already uses this value. Correct the conflicting attribute values, or review the matching attribute configuration if the existing account should have been matched and taken over.",
  TooManyRequests:
    "The target is rate limiting requests. The request is retried automatically; no action is needed unless this persists.",
  InternalServerError:
    "The target had an internal error. The request is retried automatically in the next cycle; contact Dialpad support if it persists.",
  Timeout:
    "The target did not answer in time. The request is retried automatically; contact Dialpad support if it persists.",
  InvalidAnchor:
    "The account previously created or matched in the target no longer exists. Restart provisioning so the account is matched or created again.",
  NotImplemented:
    "The target does not implement this operation. Remove the mapping or scope that requires it.",
  UnprocessableEntity:
    "The target could not process the values sent. Check the exported attribute values and mappings for this object.",
  WebExceptionProtocolError:
    "An HTTP protocol error occurred while talking to the target. It is retried automatically; check the tenant URL if it persists.",
  SchemaAttributeNotFound:
    "The target does not know an attribute that was sent. Remove or correct that attribute in the attribute mappings.",
  MandatoryFieldsMissing:
    "A value the target requires is missing. Make sure the source object has a value for every required mapped attribute.",
  LicenseLimitExceeded:
    "The target has no licence available for this user. Add licences in Dialpad or reduce the users in scope.",
  DuplicateTargetEntries:
    "More than one account in the target matches this object. Remove the duplicates in Dialpad or choose a matching attribute whose values are unique.",
  SystemForCrossDomainIdentityManagementServiceIncompatible:
    "The target returned a response that is not valid SCIM 2.0. Check that the tenant URL points at the SCIM endpoint (for Dialpad: https://dialpad.com/scim).",
  SystemForCrossDomainIdentityManagementMultipleEntriesInResponse:
    "The target returned several objects where one was expected. Contact Dialpad support; the request that caused it is attached.",
  BadRequest:
    "The target rejected the request as invalid. Check the exported attribute values and the attribute mappings for this object.",
  RedirectRefused:
    "The tenant URL answered with a redirect. Redirects are not followed so the secret token is never sent to another address; enter the final URL as the tenant URL.",
  ConnectionFailed:
    "The target could not be reached. Check the tenant URL, DNS and any firewall between this service and the target.",
  TlsFailure:
    "The target's TLS certificate could not be verified. Check the tenant URL's host name and certificate.",
};

const NON_SERVICE_FAILURES = new Set<EntraErrorCode>([
  "Unauthorized",
  "InsufficientRights",
  "MethodNotAllowed",
  "NotPermitted",
  "Conflict",
  "EntryConflict",
  "InvalidAnchor",
  "NotImplemented",
  "UnprocessableEntity",
  "SchemaAttributeNotFound",
  "MandatoryFieldsMissing",
  "LicenseLimitExceeded",
  "DuplicateTargetEntries",
  "SystemForCrossDomainIdentityManagementServiceIncompatible",
  "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
  "BadRequest",
  "RedirectRefused",
  "TlsFailure",
]);

/** Entra-style troubleshooting record (provisioningErrorInfo) for a provisioning log entry. */
export function describeScimError(error: unknown): ScimErrorDescription {
  if (!isScimError(error)) {
    return {
      errorCode: "InternalError",
      reason: error instanceof Error ? error.message : String(error),
      recommendedAction:
        "An unexpected error occurred in the provisioning service. It is retried automatically; report it if it persists.",
      errorCategory: "failure",
    };
  }
  const status = error.status
    ? ` (HTTP ${error.status}${error.scimType ? `, scimType ${error.scimType}` : ""})`
    : "";
  return {
    errorCode: error.code,
    reason: `${error.detail}${status}. Request: ${error.request.method} ${error.request.url}`,
    recommendedAction: RECOMMENDED_ACTIONS[error.code],
    errorCategory: NON_SERVICE_FAILURES.has(error.code) ? "nonServiceFailure" : "failure",
  };
}
