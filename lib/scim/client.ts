import { randomUUID } from "node:crypto";
import type { z } from "zod";
import {
  classifyHttpStatus,
  classifyNetworkError,
  ScimError,
  type RequestKind,
  type ScimRequestInfo,
  type ScimResponseInfo,
} from "./errors";
import { eq, type ScimFilter } from "./filter";
import { unlimited, type RequestLimiter } from "./limiter";
import { redactBody, redactUrl, scrubText } from "./redact";
import { OUTBOUND_CONNECT_FAILED, OutboundConnectError } from "../net/connect-error";
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, sleep, type RetryPolicy } from "../net/retry";
import {
  listResponseSchema,
  SCIM_SCHEMAS,
  scimErrorBodySchema,
  scimGroupSchema,
  scimResourceTypeSchema,
  scimSchemaDefinitionSchema,
  scimUserSchema,
  serviceProviderConfigSchema,
  type ScimGroup,
  type ScimListResponse,
  type ScimPatchOperation,
  type ScimResource,
  type ScimResourceInput,
  type ScimResourceType,
  type ScimSchemaDefinition,
  type ScimUser,
  type ServiceProviderConfig,
} from "./schemas";

/** One HTTP attempt, for provisioning logs and metrics. Never carries the Authorization header. */
export interface ScimExchange {
  method: string;
  url: string;
  /** Absent when no HTTP response arrived (network failure, timeout). */
  status?: number;
  durationMs: number;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  requestBody?: string;
  responseBody?: string;
  /** Set when this attempt failed. */
  errorCode?: string;
}

export interface ScimClientOptions {
  /** Tenant URL, e.g. https://dialpad.com/scim */
  baseUrl: string;
  /** Secret token (Dialpad API key), sent as a bearer token. */
  token: string;
  fetch?: typeof fetch;
  /** Per attempt, covering the response body too. Default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  retryPolicy?: Partial<RetryPolicy>;
  limiter?: RequestLimiter;
  /**
   * Called right before each attempt of a request that changes Dialpad (after the limiter granted its
   * slot, which may have taken a while); throwing stops it. A job attempt that may have lost its lease
   * must not write, and a database write can be fenced, a request to Dialpad cannot.
   */
  beforeWrite?: () => void;
  onExchange?: (exchange: ScimExchange) => void;
  userAgent?: string;
  /** For tests: jitter source. */
  random?: () => number;
}

export interface TestConnectionResult {
  ok: boolean;
  status?: number;
  /** One admin-facing sentence or two: what happened and what to do. */
  message: string;
  /** Technical detail (target's error text, low-level cause), token removed. */
  detail?: string;
}

export interface ListUsersOptions {
  startIndex?: number;
  count?: number;
}

export interface GroupReadOptions {
  /** Entra always asks for groups without members; big groups are expensive to return. */
  excludeMembers?: boolean;
}

export interface ScimClient {
  testConnection(): Promise<TestConnectionResult>;
  findUsers(filter: ScimFilter): Promise<ScimUser[]>;
  getUser(id: string): Promise<ScimUser>;
  createUser(resource: ScimResourceInput): Promise<ScimUser>;
  /** Resolves to the updated user when the target returns it (200), else undefined (204). */
  patchUser(id: string, operations: readonly ScimPatchOperation[]): Promise<ScimUser | undefined>;
  replaceUser(id: string, resource: ScimResourceInput): Promise<ScimUser>;
  deleteUser(id: string): Promise<void>;
  findGroups(filter: ScimFilter, options?: GroupReadOptions): Promise<ScimGroup[]>;
  getGroup(id: string, options?: GroupReadOptions): Promise<ScimGroup>;
  createGroup(resource: ScimResourceInput): Promise<ScimGroup>;
  patchGroup(id: string, operations: readonly ScimPatchOperation[]): Promise<ScimGroup | undefined>;
  deleteGroup(id: string): Promise<void>;
  getServiceProviderConfig(): Promise<ServiceProviderConfig>;
  getSchemas(): Promise<ScimListResponse<ScimSchemaDefinition>>;
  getResourceTypes(): Promise<ScimListResponse<ScimResourceType>>;
  listUsers(options?: ListUsersOptions): Promise<ScimListResponse<ScimUser>>;
  /** One page of every group; members are left out unless `excludeMembers` is false. */
  listGroups(options?: ListUsersOptions & GroupReadOptions): Promise<ScimListResponse<ScimGroup>>;
}

type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  kind: RequestKind;
  maxRetries?: number;
}

interface ScimResponse {
  status: number;
  /** Parsed JSON; undefined for an empty body. */
  body: unknown;
  request: ScimRequestInfo;
  response: ScimResponseInfo;
}

const SCIM_MEDIA_TYPE = "application/scim+json";
const EXCERPT_LENGTH = 2_048;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Throws DuplicateTargetEntries when a match query returned more than one resource. */
export function expectSingleMatch<T extends ScimResource>(
  resources: readonly T[],
  request?: ScimRequestInfo,
): T | undefined {
  if (resources.length > 1) {
    throw new ScimError({
      code: "DuplicateTargetEntries",
      detail: `${resources.length} resources in the target match; expected at most one (ids ${resources
        .slice(0, 5)
        .map((resource) => resource.id)
        .join(", ")}${resources.length > 5 ? ", …" : ""})`,
      retryable: false,
      request: request ?? { method: "GET", url: "(match query)" },
    });
  }
  return resources[0];
}

function checkTenantUrl(baseUrl: string): { url?: URL; problem?: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { problem: `The tenant URL "${baseUrl}" is not a valid URL.` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { problem: `The tenant URL must start with https:// (got ${url.protocol}).` };
  }
  // The bearer token must never cross a network in clear text; plain http is for local emulators only.
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    return { problem: "The tenant URL must use https://; plain http is accepted only for localhost." };
  }
  if (url.search || url.hash)
    return { problem: "The tenant URL must not contain a query string or fragment." };
  return { url };
}

function isHtml(contentType: string | undefined, text: string): boolean {
  return (contentType ?? "").includes("text/html") || /^\s*<(!doctype|html)/i.test(text);
}

export function createScimClient(options: ScimClientOptions): ScimClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const defaultMaxRetries = options.maxRetries ?? 4;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy };
  const limiter = options.limiter ?? unlimited;
  const random = options.random ?? Math.random;
  const secrets = [options.token];
  const tenant = checkTenantUrl(options.baseUrl);
  const base = tenant.url ? tenant.url.toString().replace(/\/+$/, "") : options.baseUrl;

  const scrub = (text: string) => scrubText(text, secrets);
  const excerpt = (text: string) => {
    const scrubbed = scrub(text);
    return scrubbed.length > EXCERPT_LENGTH ? `${scrubbed.slice(0, EXCERPT_LENGTH)}…` : scrubbed;
  };

  function buildUrl(path: string, query: RequestSpec["query"]): string {
    // encodeURIComponent (%20) rather than URLSearchParams (+): not every SCIM server decodes '+' as a space.
    const pairs = Object.entries(query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    return `${base}${path}${pairs.length ? `?${pairs.join("&")}` : ""}`;
  }

  function emit(exchange: ScimExchange): void {
    try {
      options.onExchange?.(exchange);
    } catch {
      // A broken logger must not turn a successful provisioning call into a failure.
    }
  }

  /** Whether repeating this request could do the work twice. */
  function mayRetry(method: HttpMethod, error: ScimError): boolean {
    if (!error.retryable) return false;
    if (method !== "POST") return true;
    // A POST that timed out or hit a 5xx may already have created the user; repeating it would create a
    // duplicate or a 409. Only retry when the target certainly did not process it: throttled, or the
    // connection was never made. The next cycle's match query picks up anything that did get created.
    return (
      error.status === 429 ||
      error.status === 503 ||
      error.causeCode === "ECONNREFUSED" ||
      error.causeCode === "ENOTFOUND" ||
      error.causeCode === "EAI_AGAIN"
    );
  }

  async function attemptOnce(
    spec: RequestSpec,
    url: string,
    requestInfo: ScimRequestInfo,
    bodyText: string | undefined,
    attempt: number,
  ): Promise<ScimResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = performance.now();
    const record = (partial: Partial<ScimExchange>) =>
      emit({
        method: spec.method,
        url: requestInfo.url,
        durationMs: Math.round(performance.now() - started),
        attempt,
        requestBody: requestInfo.body,
        ...partial,
      });

    let status: number;
    let text: string;
    let headers: Headers;
    // Checked again as the request leaves (a pinned fetch calls it then): the process may have been
    // frozen between the check before this attempt and the moment its connection opened.
    let refusedBeforeSend: unknown;
    const beforeSend =
      spec.method !== "GET" && options.beforeWrite
        ? () => {
            try {
              options.beforeWrite!();
            } catch (error) {
              refusedBeforeSend = error;
              throw error;
            }
          }
        : undefined;
    try {
      const response = await fetchImpl(url, {
        ...(beforeSend ? { beforeSend } : {}),
        method: spec.method,
        headers: {
          Accept: `${SCIM_MEDIA_TYPE}, application/json;q=0.9`,
          Authorization: `Bearer ${options.token}`,
          "User-Agent": options.userAgent ?? "dialpad-provisioning-scim-client",
          ...(bodyText !== undefined ? { "Content-Type": SCIM_MEDIA_TYPE } : {}),
        },
        body: bodyText,
        // Following a redirect would hand the bearer token to whatever host the Location names.
        redirect: "manual",
        signal: controller.signal,
      });
      status = response.status;
      headers = response.headers;
      text = await response.text();
    } catch (cause) {
      if (refusedBeforeSend !== undefined) throw refusedBeforeSend;
      const timedOut = controller.signal.aborted;
      const failure = timedOut
        ? {
            kind: "timeout" as const,
            causeCode: "TIMEOUT",
            message: `no complete response within ${timeoutMs} ms`,
          }
        : classifyNetworkError(cause);
      const code =
        failure.kind === "timeout" ? "Timeout" : failure.kind === "tls" ? "TlsFailure" : "ConnectionFailed";
      // DNS and certificate problems are configuration errors; retrying only delays the message.
      const retryable =
        failure.kind === "timeout" ||
        failure.kind === "reset" ||
        failure.kind === "refused" ||
        (failure.kind === "unreachable" &&
          !(cause instanceof OutboundConnectError && cause.refusedByPolicy)) ||
        failure.causeCode === "EAI_AGAIN";
      const error = new ScimError({
        code,
        detail: scrub(failure.message),
        retryable,
        request: requestInfo,
        causeCode: failure.causeCode,
        attempts: attempt,
      });
      record({ errorCode: code });
      throw error;
    } finally {
      clearTimeout(timer);
    }

    const contentType = headers.get("content-type") ?? undefined;
    const location = headers.get("location");
    const responseInfo: ScimResponseInfo = {
      status,
      contentType,
      bodyExcerpt: text ? excerpt(text) : undefined,
      ...(location ? { location: redactUrl(location, secrets) } : {}),
    };
    const recorded = (error: ScimError): ScimError => {
      record({ status, responseBody: redactBody(text || undefined, secrets), errorCode: error.code });
      return error;
    };

    if (status >= 300 && status < 400) {
      limiter.onSuccess();
      throw recorded(
        new ScimError({
          code: "RedirectRefused",
          detail: `the target redirected to ${responseInfo.location ?? "(no Location header)"}; redirects are not followed so the secret token stays with the configured host`,
          retryable: false,
          status,
          request: requestInfo,
          response: responseInfo,
          attempts: attempt,
        }),
      );
    }

    if (status >= 400) {
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(headers.get("retry-after")) : undefined;
      if (status === 429 || status === 503) limiter.onThrottled(retryAfterMs);
      else if (status < 500) limiter.onSuccess();
      let parsedError: z.infer<typeof scimErrorBodySchema> | undefined;
      try {
        const result = scimErrorBodySchema.safeParse(JSON.parse(text));
        if (result.success) parsedError = result.data;
      } catch {
        // Not JSON: classified by status alone; the excerpt is kept for the admin.
      }
      const { code, retryable } = classifyHttpStatus(status, parsedError?.scimType, spec.kind);
      const detail = parsedError?.detail
        ? scrub(parsedError.detail)
        : isHtml(contentType, text)
          ? `HTTP ${status} with an HTML page instead of a SCIM error`
          : `HTTP ${status}${text ? `: ${excerpt(text).slice(0, 200)}` : ""}`;
      throw recorded(
        new ScimError({
          code,
          detail,
          retryable,
          status,
          scimType: parsedError?.scimType,
          retryAfterMs,
          request: requestInfo,
          response: responseInfo,
          attempts: attempt,
        }),
      );
    }

    limiter.onSuccess();
    let body: unknown;
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        throw recorded(
          new ScimError({
            code: "SystemForCrossDomainIdentityManagementServiceIncompatible",
            detail: isHtml(contentType, text)
              ? `the target answered HTTP ${status} with an HTML page, not SCIM JSON`
              : `the target answered HTTP ${status} with a body that is not JSON (${contentType ?? "no content type"})`,
            retryable: false,
            status,
            request: requestInfo,
            response: responseInfo,
            attempts: attempt,
          }),
        );
      }
    }
    record({ status, responseBody: redactBody(text || undefined, secrets) });
    return { status, body, request: requestInfo, response: responseInfo };
  }

  async function execute(spec: RequestSpec): Promise<ScimResponse> {
    const url = buildUrl(spec.path, spec.query);
    const requestInfo: ScimRequestInfo = {
      method: spec.method,
      url: redactUrl(url, secrets),
      ...(spec.body !== undefined ? { body: redactBody(spec.body, secrets) } : {}),
    };
    if (tenant.problem) {
      throw new ScimError({
        code: "ConnectionFailed",
        detail: tenant.problem,
        retryable: false,
        request: requestInfo,
        attempts: 0,
      });
    }
    const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const maxRetries = spec.maxRetries ?? defaultMaxRetries;
    let waitedMs = 0;
    for (let attempt = 1; ; attempt += 1) {
      await limiter.acquire();
      let failure: unknown;
      try {
        if (spec.method !== "GET") options.beforeWrite?.();
        return await attemptOnce(spec, url, requestInfo, bodyText, attempt);
      } catch (error) {
        failure = error;
      } finally {
        limiter.release?.();
      }
      if (!(failure instanceof ScimError) || attempt > maxRetries || !mayRetry(spec.method, failure))
        throw failure;
      if (spec.method !== "GET") options.beforeWrite?.();
      const delay = failure.retryAfterMs ?? backoffDelay(attempt, policy, random);
      // Past the wait budget the caller (the job queue) is better placed to reschedule than we are.
      if (waitedMs + delay > policy.maxTotalWaitMs) throw failure;
      waitedMs += delay;
      await sleep(delay);
    }
  }

  function validate<T extends z.ZodType>(schema: T, result: ScimResponse, what: string): z.infer<T> {
    const parsed = schema.safeParse(result.body);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new ScimError({
      code: "SystemForCrossDomainIdentityManagementServiceIncompatible",
      detail: `the target's response is not a valid ${what} (${problems})`,
      retryable: false,
      status: result.status,
      request: result.request,
      response: result.response,
    });
  }

  function validateSingle<T extends z.ZodType>(schema: T, result: ScimResponse, what: string): z.infer<T> {
    const body = result.body as { Resources?: unknown; schemas?: unknown } | undefined;
    // A GET by id answered with a list (Entra: SystemForCrossDomainIdentityManagementMultipleEntriesInResponse).
    if (
      body &&
      typeof body === "object" &&
      (Array.isArray(body.Resources) ||
        (Array.isArray(body.schemas) && body.schemas.includes(SCIM_SCHEMAS.listResponse)))
    ) {
      throw new ScimError({
        code: "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
        detail: `the target returned a list where a single ${what} was expected`,
        retryable: false,
        status: result.status,
        request: result.request,
        response: result.response,
      });
    }
    return validate(schema, result, what);
  }

  const resourcePath = (collection: "Users" | "Groups", id: string) => {
    if (id === "") throw new TypeError(`A ${collection} id must not be empty`);
    return `/${collection}/${encodeURIComponent(id)}`;
  };
  const patchBody = (operations: readonly ScimPatchOperation[]) => ({
    schemas: [SCIM_SCHEMAS.patchOp],
    Operations: operations,
  });
  const membersQuery = (options?: GroupReadOptions) =>
    options?.excludeMembers ? { excludedAttributes: "members" } : {};

  async function list<T extends z.ZodType>(
    spec: RequestSpec,
    resource: T,
    what: string,
  ): Promise<ScimListResponse<z.infer<T>>> {
    const result = await execute(spec);
    return validate(listResponseSchema(resource), result, `ListResponse of ${what}`) as ScimListResponse<
      z.infer<T>
    >;
  }

  async function patch<T extends z.ZodType>(
    collection: "Users" | "Groups",
    id: string,
    operations: readonly ScimPatchOperation[],
    schema: T,
    what: string,
  ) {
    const result = await execute({
      method: "PATCH",
      path: resourcePath(collection, id),
      body: patchBody(operations),
      kind: "resource",
    });
    return result.body === undefined ? undefined : (validateSingle(schema, result, what) as z.infer<T>);
  }

  async function testConnection(): Promise<TestConnectionResult> {
    // Entra's probe: a match query for a user that cannot exist. It proves the URL, the token and filter support at once.
    const probe = eq("userName", randomUUID());
    try {
      const result = await list(
        {
          method: "GET",
          path: "/Users",
          query: { filter: probe.expression },
          kind: "collection",
          maxRetries: 0,
        },
        scimUserSchema,
        "users",
      );
      if (result.totalResults !== 0 || result.Resources.length > 0) {
        return {
          ok: false,
          status: 200,
          message: `The target returned ${result.totalResults} user(s) for a filter that matches no one, so it seems to ignore SCIM filters; matching users would be unreliable.`,
          detail: `GET /Users?filter=${probe.expression}`,
        };
      }
      return {
        ok: true,
        status: 200,
        message:
          "Connection succeeded: the tenant URL answered a SCIM user query and accepted the secret token.",
      };
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      return {
        ok: false,
        status: error.status,
        message: explainForAdmin(error, timeoutMs),
        detail: technicalDetail(error),
      };
    }
  }

  return {
    testConnection,
    async findUsers(filter) {
      const result = await list(
        { method: "GET", path: "/Users", query: { filter: filter.expression }, kind: "collection" },
        scimUserSchema,
        "users",
      );
      return result.Resources;
    },
    async getUser(id) {
      return validateSingle(
        scimUserSchema,
        await execute({ method: "GET", path: resourcePath("Users", id), kind: "resource" }),
        "user",
      );
    },
    async createUser(resource) {
      return validateSingle(
        scimUserSchema,
        await execute({ method: "POST", path: "/Users", body: resource, kind: "collection" }),
        "created user",
      );
    },
    patchUser: (id, operations) => patch("Users", id, operations, scimUserSchema, "user"),
    async replaceUser(id, resource) {
      return validateSingle(
        scimUserSchema,
        await execute({ method: "PUT", path: resourcePath("Users", id), body: resource, kind: "resource" }),
        "user",
      );
    },
    async deleteUser(id) {
      await execute({ method: "DELETE", path: resourcePath("Users", id), kind: "resource" });
    },
    async findGroups(filter, options = { excludeMembers: true }) {
      const result = await list(
        {
          method: "GET",
          path: "/Groups",
          query: { ...membersQuery(options), filter: filter.expression },
          kind: "collection",
        },
        scimGroupSchema,
        "groups",
      );
      return result.Resources;
    },
    async getGroup(id, options = { excludeMembers: true }) {
      return validateSingle(
        scimGroupSchema,
        await execute({
          method: "GET",
          path: resourcePath("Groups", id),
          query: membersQuery(options),
          kind: "resource",
        }),
        "group",
      );
    },
    async createGroup(resource) {
      return validateSingle(
        scimGroupSchema,
        await execute({ method: "POST", path: "/Groups", body: resource, kind: "collection" }),
        "created group",
      );
    },
    patchGroup: (id, operations) => patch("Groups", id, operations, scimGroupSchema, "group"),
    async deleteGroup(id) {
      await execute({ method: "DELETE", path: resourcePath("Groups", id), kind: "resource" });
    },
    async getServiceProviderConfig() {
      return validate(
        serviceProviderConfigSchema,
        await execute({ method: "GET", path: "/ServiceProviderConfig", kind: "discovery" }),
        "ServiceProviderConfig",
      );
    },
    getSchemas: () =>
      list({ method: "GET", path: "/Schemas", kind: "discovery" }, scimSchemaDefinitionSchema, "schemas"),
    getResourceTypes: () =>
      list(
        { method: "GET", path: "/ResourceTypes", kind: "discovery" },
        scimResourceTypeSchema,
        "resource types",
      ),
    listUsers: (listOptions = {}) =>
      list(
        {
          method: "GET",
          path: "/Users",
          query: { startIndex: listOptions.startIndex, count: listOptions.count },
          kind: "collection",
        },
        scimUserSchema,
        "users",
      ),
    listGroups: ({ excludeMembers = true, ...page } = {}) =>
      list(
        {
          method: "GET",
          path: "/Groups",
          query: { ...membersQuery({ excludeMembers }), startIndex: page.startIndex, count: page.count },
          kind: "collection",
        },
        scimGroupSchema,
        "groups",
      ),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function technicalDetail(error: ScimError): string {
  const parts = [error.detail];
  if (error.causeCode) parts.push(`cause: ${error.causeCode}`);
  if (error.response?.bodyExcerpt && !error.detail.includes(error.response.bodyExcerpt))
    parts.push(`response: ${error.response.bodyExcerpt.slice(0, 500)}`);
  return parts.join(" | ");
}

/** Test Connection wording: what failed, in the admin's terms, and what to check. */
export function explainForAdmin(error: ScimError, timeoutMs: number): string {
  const host = hostOf(error.request.url);
  switch (error.code) {
    case "Unauthorized":
      return "The secret token was rejected (HTTP 401). Check that the Dialpad API key is copied completely, has not expired and has not been deleted, then test again.";
    case "InsufficientRights":
      return "The secret token was accepted but is not allowed to manage users (HTTP 403). Use an API key created by a Dialpad Company Admin.";
    case "SystemForCrossDomainIdentityManagementServiceIncompatible":
      if (error.status === 404)
        return `The tenant URL was not found (HTTP 404) on ${host}. Check the tenant URL; for Dialpad it is https://dialpad.com/scim.`;
      if (isHtml(error.response?.contentType, error.response?.bodyExcerpt ?? "")) {
        return `The tenant URL answered with a web page instead of SCIM data (HTTP ${error.status}). It probably points at a website rather than the SCIM endpoint; for Dialpad use https://dialpad.com/scim.`;
      }
      return `The tenant URL answered (HTTP ${error.status}) with something that is not a SCIM 2.0 response. Check that it points at the SCIM endpoint.`;
    case "RedirectRefused":
      return `The tenant URL redirected (HTTP ${error.status}) to ${error.response?.location ?? "another address"}. Redirects are not followed, so the secret token is never sent elsewhere; enter the final SCIM URL instead.`;
    case "TlsFailure":
      return `The TLS certificate of ${host} could not be verified (${error.causeCode ?? "certificate error"}). Check the host name in the tenant URL; the target must present a valid certificate.`;
    case "ConnectionFailed":
      if (
        error.causeCode === "ENOTFOUND" ||
        error.causeCode === "EAI_AGAIN" ||
        error.causeCode === "EAI_NONAME"
      ) {
        return `The host name ${host} could not be found (DNS). Check the spelling of the tenant URL.`;
      }
      if (error.causeCode === OUTBOUND_CONNECT_FAILED)
        return `Could not connect to ${host}. Check the tenant URL and port, that the service is running, and any firewall in between.`;
      if (error.causeCode === "ECONNREFUSED")
        return `The connection to ${host} was refused. Check the tenant URL and port, and that the service is running.`;
      if (error.attempts === 0) return error.detail;
      return `Could not connect to ${host} (${error.causeCode ?? "network error"}). Check the tenant URL and any firewall in between.`;
    case "Timeout":
      return `The target did not answer within ${Math.round(timeoutMs / 1000)} seconds. Try again later; if it keeps happening, check the tenant URL and the target's status.`;
    case "TooManyRequests":
      return "The target is rate limiting requests (HTTP 429). Wait a minute and test again.";
    case "InternalServerError":
      return `The target reported a server error (HTTP ${error.status}). Try again later or contact Dialpad support.`;
    default:
      return `The target rejected the test query (${error.status ? `HTTP ${error.status}, ` : ""}${error.code}): ${error.detail}`;
  }
}
