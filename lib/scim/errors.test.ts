import { describe, expect, test } from "vitest";
import {
  classifyHttpStatus,
  classifyNetworkError,
  describeScimError,
  ScimError,
  type RequestKind,
} from "./errors";

describe("HTTP status → Entra error code", () => {
  test.each<[number, string | undefined, RequestKind, string, boolean]>([
    [400, undefined, "collection", "BadRequest", false],
    [400, "uniqueness", "collection", "EntryConflict", false],
    [400, "invalidPath", "resource", "SchemaAttributeNotFound", false],
    [401, undefined, "collection", "Unauthorized", false],
    [403, undefined, "resource", "InsufficientRights", false],
    [404, undefined, "resource", "InvalidAnchor", false],
    [404, undefined, "collection", "SystemForCrossDomainIdentityManagementServiceIncompatible", false],
    [404, undefined, "discovery", "SystemForCrossDomainIdentityManagementServiceIncompatible", false],
    [405, undefined, "resource", "MethodNotAllowed", false],
    [409, undefined, "collection", "Conflict", false],
    [409, "uniqueness", "collection", "EntryConflict", false],
    [422, undefined, "resource", "UnprocessableEntity", false],
    [429, undefined, "resource", "TooManyRequests", true],
    [500, undefined, "resource", "InternalServerError", true],
    [501, undefined, "resource", "NotImplemented", false],
    [502, undefined, "resource", "InternalServerError", true],
    [503, undefined, "resource", "InternalServerError", true],
    [504, undefined, "resource", "Timeout", true],
    [418, undefined, "resource", "WebExceptionProtocolError", false],
  ])("HTTP %i scimType=%s on %s → %s (retryable %s)", (status, scimType, kind, code, retryable) => {
    expect(classifyHttpStatus(status, scimType, kind)).toEqual({ code, retryable });
  });
});

describe("network failure classification", () => {
  const fetchFailed = (cause: unknown) => Object.assign(new TypeError("fetch failed"), { cause });
  test.each([
    [
      "DNS",
      fetchFailed(
        Object.assign(new Error("getaddrinfo ENOTFOUND scim.nowhere.invalid"), { code: "ENOTFOUND" }),
      ),
      "dns",
      "ENOTFOUND",
    ],
    [
      "refused via AggregateError",
      fetchFailed(
        Object.assign(
          new AggregateError(
            [Object.assign(new Error("connect ECONNREFUSED ::1:1"), { code: "ECONNREFUSED" })],
            "x",
          ),
          { code: "ECONNREFUSED" },
        ),
      ),
      "refused",
      "ECONNREFUSED",
    ],
    [
      "self-signed certificate",
      fetchFailed(
        Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      ),
      "tls",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
    ],
    [
      "wrong host name",
      fetchFailed(
        Object.assign(new Error("Hostname/IP does not match"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }),
      ),
      "tls",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ],
    [
      "socket closed",
      fetchFailed(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })),
      "reset",
      "UND_ERR_SOCKET",
    ],
    ["unknown", new Error("boom"), "other", undefined],
  ])("%s", (_name, error, kind, causeCode) => {
    const failure = classifyNetworkError(error);
    expect(failure.kind).toBe(kind);
    expect(failure.causeCode).toBe(causeCode);
    expect(failure.message).not.toBe("");
  });
});

describe("describeScimError (Entra troubleshooting record)", () => {
  const request = { method: "GET", url: "https://dialpad.example/scim/Users/7" };
  test.each([
    ["Unauthorized", 401, "nonServiceFailure", /API key/],
    ["EntryConflict", 409, "nonServiceFailure", /matching attribute/],
    ["InvalidAnchor", 404, "nonServiceFailure", /no longer exists/],
    ["TooManyRequests", 429, "failure", /retried automatically/],
    ["Timeout", undefined, "failure", /retried automatically/],
    ["DuplicateTargetEntries", undefined, "nonServiceFailure", /duplicates/],
    ["SystemForCrossDomainIdentityManagementServiceIncompatible", 200, "nonServiceFailure", /not valid SCIM/],
  ] as const)("%s", (code, status, category, action) => {
    const description = describeScimError(
      new ScimError({ code, detail: "x", retryable: false, request, status }),
    );
    expect(description.errorCode).toBe(code);
    expect(description.errorCategory).toBe(category);
    expect(description.recommendedAction).toMatch(action);
    expect(description.reason).toContain("GET https://dialpad.example/scim/Users/7");
  });

  test("a non-SCIM error becomes InternalError with its message", () => {
    expect(describeScimError(new Error("bug"))).toMatchObject({
      errorCode: "InternalError",
      reason: "bug",
      errorCategory: "failure",
    });
  });
});
