import type { z } from "zod";
import { GraphAuthError, GraphError, type GraphRequestInfo } from "./errors";
import { OutboundConnectError } from "../net/connect-error";
import { ASSIGNMENTS_ONLY_FILTER, onlyAssignments } from "./assignment-delta";
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, sleep, type RetryPolicy } from "../net/retry";
import {
  graphAppRoleAssignmentSchema,
  graphAssignmentChangeSchema,
  graphCollectionSchema,
  graphDirectoryObjectSchema,
  graphErrorBodySchema,
  graphExtensionPropertySchema,
  graphGroupSchema,
  graphServicePrincipalSchema,
  graphUserSchema,
  type GraphAppRoleAssignment,
  type GraphAssignmentChange,
  type GraphDirectoryObject,
  type GraphExtensionProperty,
  type GraphGroup,
  type GraphPage,
  type GraphServicePrincipal,
  type GraphUser,
} from "./schemas";

export interface GraphTokenProvider {
  /** `forceRefresh` bypasses any cache: used once after Graph answers 401. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 */
  baseUrl: string;
  tokenProvider: GraphTokenProvider;
  fetch?: typeof fetch;
  /** Per attempt, including the body. Default 60 s (delta pages of big tenants are slow). */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  retryPolicy?: Partial<RetryPolicy>;
  random?: () => number;
}

export interface ListOptions {
  select?: readonly string[];
  /** $top; Graph allows up to 999 for users and groups. */
  pageSize?: number;
  /** Raw OData $filter, built by the caller with odataString() for literals. */
  filter?: string;
}

export interface DeltaOptions {
  select?: readonly string[];
  /** From the last page of the previous round; absent for the initial round. */
  deltaLink?: string;
  /** Sent as Prefer: odata.maxpagesize (delta ignores $top). */
  pageSize?: number;
  /**
   * Start a round from now ($deltatoken=latest): no objects, just a deltaLink that shows later changes.
   * Ignored with a deltaLink.
   */
  latest?: boolean;
}

export interface GraphClient {
  listUsers(options?: ListOptions): AsyncIterable<GraphPage<GraphUser>>;
  listGroups(options?: ListOptions): AsyncIterable<GraphPage<GraphGroup>>;
  getUser(idOrUpn: string, select?: readonly string[]): Promise<GraphUser>;
  getGroup(id: string, select?: readonly string[]): Promise<GraphGroup>;
  /** Direct members: users, groups and other directory objects, each with @odata.type. */
  listGroupMembers(
    groupId: string,
    select?: readonly string[],
  ): AsyncIterable<GraphPage<GraphDirectoryObject>>;
  getServicePrincipal(id: string): Promise<GraphServicePrincipal>;
  listAppRoleAssignedTo(
    servicePrincipalId: string,
    options?: { pageSize?: number },
  ): AsyncIterable<GraphPage<GraphAppRoleAssignment>>;
  usersDelta(options?: DeltaOptions): AsyncIterable<GraphPage<GraphUser>>;
  groupsDelta(options?: DeltaOptions): AsyncIterable<GraphPage<GraphGroup>>;
  /**
   * Changes to app role assignments (every app's: filter by resourceId), from directoryObjects/delta.
   * `latest` starts from now without reading the assignments there are; a `deltaLink` overrides it.
   */
  appRoleAssignmentsDelta(options?: {
    deltaLink?: string;
    latest?: boolean;
    pageSize?: number;
  }): AsyncIterable<GraphPage<GraphAssignmentChange>>;
  /** Prefix search on display name, UPN and mail (on-demand provisioning's user picker). */
  searchUsers(text: string, options?: { select?: readonly string[]; top?: number }): Promise<GraphUser[]>;
  /**
   * A user's app role assignments for one app: direct ones and those of the groups the user is a direct
   * member of (Graph returns both), so on-demand provisioning decides entitlement from one request.
   */
  listUserAppRoleAssignments(
    userId: string,
    resourceId: string,
  ): AsyncIterable<GraphPage<GraphAppRoleAssignment>>;
  /** A group's own app role assignments for one app. */
  listGroupAppRoleAssignments(
    groupId: string,
    resourceId: string,
  ): AsyncIterable<GraphPage<GraphAppRoleAssignment>>;
  /** Prefix search on display name and mail (on-demand provisioning's group picker). */
  searchGroups(text: string, options?: { select?: readonly string[]; top?: number }): Promise<GraphGroup[]>;
  /** Direct members that are users (Graph's microsoft.graph.user cast of the members collection). */
  listGroupUserMembers(groupId: string, select?: readonly string[]): AsyncIterable<GraphPage<GraphUser>>;
  /**
   * The directory extension attributes registered in the tenant (POST
   * /directoryObjects/getAvailableExtensionProperties, an action that reads nothing but needs POST).
   */
  getAvailableExtensionProperties(options?: {
    isSyncedFromOnPremises?: boolean;
  }): Promise<GraphExtensionProperty[]>;
}

/** An Edm.Guid literal (written bare in OData); anything else would change the filter's meaning. */
function guid(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    throw new Error(`"${value}" is not an object id (a GUID)`);
  return value;
}

function prefixFilter(properties: readonly string[], text: string): string {
  const literal = odataString(text);
  return properties.map((property) => `startswith(${property},${literal})`).join(" or ");
}

/** An OData string literal: single quotes doubled, as OData requires. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Delta pages are sized by preference: Graph ignores $top there. */
function maxPageSize(pageSize: number | undefined): Record<string, string> {
  return pageSize ? { Prefer: `odata.maxpagesize=${pageSize}` } : {};
}

/** Drains an async iterable of pages into one array (for small collections only). */
export async function collectAll<T>(pages: AsyncIterable<GraphPage<T>>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page.value);
  return items;
}

const PERMISSION_HINT =
  "Grant the app registration the Microsoft Graph application permissions User.Read.All, GroupMember.Read.All and Application.Read.All, with admin consent.";

export function createGraphClient(options: GraphClientOptions): GraphClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 4;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy };
  const random = options.random ?? Math.random;
  const base = options.baseUrl.replace(/\/+$/, "");
  const baseOrigin = new URL(base).origin;

  function buildUrl(path: string, query: Record<string, string | number | undefined> = {}): string {
    const pairs = Object.entries(query)
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== "")
      .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`);
    return `${base}${path}${pairs.length ? `?${pairs.join("&")}` : ""}`;
  }

  const selectParam = (select?: readonly string[]) =>
    select && select.length > 0 ? select.join(",") : undefined;

  async function getJson(url: string, extraHeaders: Record<string, string> = {}): Promise<unknown> {
    return send(url, extraHeaders);
  }

  /** One Graph request with its retries; `json` makes it a POST of that body. */
  async function send(
    url: string,
    extraHeaders: Record<string, string> = {},
    json?: unknown,
  ): Promise<unknown> {
    const request: GraphRequestInfo = { method: json === undefined ? "GET" : "POST", url };
    // nextLink/deltaLink come from the response; following one to another host would hand it our token.
    if (new URL(url).origin !== baseOrigin) {
      throw new GraphError({
        code: "UntrustedNextLink",
        message: `Refusing to follow a link to ${new URL(url).origin}, which is not ${baseOrigin}`,
        retryable: false,
        request,
      });
    }
    let refreshedAfter401 = false;
    let forceRefresh = false;
    let waitedMs = 0;
    for (let attempt = 1; ; attempt += 1) {
      const token = await options.tokenProvider.getToken(forceRefresh ? { forceRefresh } : undefined);
      forceRefresh = false;
      let failure: GraphError;
      try {
        return await attemptOnce(url, token, extraHeaders, request, attempt, json);
      } catch (error) {
        if (!(error instanceof GraphError)) throw error;
        failure = error;
      }
      if (failure.status === 401 && !refreshedAfter401) {
        // An expired or revoked cached token: get a fresh one once before blaming the configuration.
        refreshedAfter401 = true;
        forceRefresh = true;
        continue;
      }
      if (failure.status === 401) {
        throw new GraphError({
          ...failure.toJSON(),
          message: `Microsoft Graph rejected the access token even after a new one was requested (${failure.code}: ${failure.message}). Check that the tenant ID, client ID and the Graph URL belong together.`,
        });
      }
      if (!failure.retryable || attempt > maxRetries) throw failure;
      const delay = failure.retryAfterMs ?? backoffDelay(attempt, policy, random);
      if (waitedMs + delay > policy.maxTotalWaitMs) throw failure;
      waitedMs += delay;
      await sleep(delay);
    }
  }

  async function attemptOnce(
    url: string,
    token: string,
    extraHeaders: Record<string, string>,
    request: GraphRequestInfo,
    attempt: number,
    json?: unknown,
  ): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const response = await fetchImpl(url, {
        method: request.method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(json === undefined ? {} : { "Content-Type": "application/json" }),
          ...extraHeaders,
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        redirect: "manual",
        signal: controller.signal,
      });
      status = response.status;
      headers = response.headers;
      text = await response.text();
    } catch (cause) {
      const timedOut = controller.signal.aborted;
      // The outbound policy's error says only "could not connect", whatever the cause (refused port,
      // reset, filtered, address not allowed); an address it refused is refused again on every retry.
      const notAllowed = cause instanceof OutboundConnectError && cause.refusedByPolicy;
      const message = timedOut
        ? `Microsoft Graph did not answer within ${timeoutMs} ms`
        : cause instanceof OutboundConnectError
          ? `Could not connect to Microsoft Graph at ${baseOrigin}`
          : `Could not reach Microsoft Graph at ${baseOrigin}: ${describeCause(cause)}`;
      throw new GraphError({
        code: timedOut ? "Timeout" : "NetworkError",
        message: message.replaceAll(token, "[redacted]"),
        retryable: !notAllowed,
        request,
        attempts: attempt,
      });
    } finally {
      clearTimeout(timer);
    }
    const requestId = headers.get("request-id") ?? undefined;
    if (status >= 300 && status < 400) {
      throw new GraphError({
        status,
        code: "RedirectRefused",
        message: `Microsoft Graph answered with a redirect (HTTP ${status}); redirects are not followed`,
        retryable: false,
        request,
        attempts: attempt,
      });
    }
    if (status >= 400) {
      let code = `HTTP${status}`;
      let message = `Microsoft Graph answered HTTP ${status}`;
      try {
        const parsed = graphErrorBodySchema.safeParse(JSON.parse(text));
        if (parsed.success) {
          code = parsed.data.error.code;
          message = parsed.data.error.message || message;
        }
      } catch {
        // Not Graph's JSON error shape (a proxy page, say): status alone classifies it.
      }
      if (status === 403) message = `${message}. ${PERMISSION_HINT}`;
      const throttled = status === 429 || status === 503 || status === 504;
      throw new GraphError({
        status,
        code,
        message: message.replaceAll(token, "[redacted]"),
        retryable: throttled || status === 500 || status === 502,
        retryAfterMs: throttled ? parseRetryAfter(headers.get("retry-after")) : undefined,
        request,
        requestId,
        attempts: attempt,
      });
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new GraphError({
        status,
        code: "InvalidResponse",
        message: `Microsoft Graph answered HTTP ${status} with a body that is not JSON`,
        retryable: false,
        request,
        requestId,
        attempts: attempt,
      });
    }
  }

  function validate<T extends z.ZodType>(schema: T, body: unknown, url: string, what: string): z.infer<T> {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new GraphError({
      code: "InvalidResponse",
      message: `Microsoft Graph returned an unexpected ${what} (${problems})`,
      retryable: false,
      request: { method: "GET", url },
    });
  }

  async function* pages<T extends z.ZodType>(
    firstUrl: string,
    item: T,
    what: string,
    headers?: Record<string, string>,
  ): AsyncGenerator<GraphPage<z.infer<T>>> {
    const schema = graphCollectionSchema(item);
    let url: string | undefined = firstUrl;
    while (url) {
      const body: unknown = await getJson(url, headers);
      const page: { value: unknown[]; "@odata.nextLink"?: string; "@odata.deltaLink"?: string } = validate(
        schema,
        body,
        url,
        what,
      );
      const nextLink: string | undefined = page["@odata.nextLink"];
      const deltaLink: string | undefined = page["@odata.deltaLink"];
      yield {
        value: page.value as z.infer<T>[],
        ...(nextLink ? { nextLink } : {}),
        ...(deltaLink ? { deltaLink } : {}),
      };
      url = nextLink;
    }
  }

  const segment = (id: string) => {
    if (id === "") throw new TypeError("A Graph object id must not be empty");
    return encodeURIComponent(id);
  };

  function delta<T extends z.ZodType>(
    collection: "users" | "groups",
    item: T,
    deltaOptions: DeltaOptions = {},
  ) {
    // A deltaLink already encodes the $select of the round that produced it.
    const first =
      deltaOptions.deltaLink ??
      buildUrl(`/${collection}/delta`, {
        $select: selectParam(deltaOptions.select),
        $deltatoken: deltaOptions.latest ? "latest" : undefined,
      });
    return pages(first, item, `${collection} delta page`, maxPageSize(deltaOptions.pageSize));
  }

  return {
    listUsers: (listOptions = {}) =>
      pages(
        buildUrl("/users", {
          $select: selectParam(listOptions.select),
          $top: listOptions.pageSize,
          $filter: listOptions.filter,
        }),
        graphUserSchema,
        "users page",
      ),
    listGroups: (listOptions = {}) =>
      pages(
        buildUrl("/groups", {
          $select: selectParam(listOptions.select),
          $top: listOptions.pageSize,
          $filter: listOptions.filter,
        }),
        graphGroupSchema,
        "groups page",
      ),
    async getUser(idOrUpn, select) {
      const url = buildUrl(`/users/${segment(idOrUpn)}`, { $select: selectParam(select) });
      return validate(graphUserSchema, await getJson(url), url, "user");
    },
    async getGroup(id, select) {
      const url = buildUrl(`/groups/${segment(id)}`, { $select: selectParam(select) });
      return validate(graphGroupSchema, await getJson(url), url, "group");
    },
    listGroupMembers: (groupId, select) =>
      pages(
        buildUrl(`/groups/${segment(groupId)}/members`, { $select: selectParam(select), $top: 999 }),
        graphDirectoryObjectSchema,
        "members page",
      ),
    async getServicePrincipal(id) {
      const url = buildUrl(`/servicePrincipals/${segment(id)}`, { $select: "id,appId,displayName,appRoles" });
      return validate(graphServicePrincipalSchema, await getJson(url), url, "service principal");
    },
    listAppRoleAssignedTo: (servicePrincipalId, assignmentOptions = {}) =>
      pages(
        buildUrl(`/servicePrincipals/${segment(servicePrincipalId)}/appRoleAssignedTo`, {
          $top: assignmentOptions.pageSize ?? 999,
        }),
        graphAppRoleAssignmentSchema,
        "app role assignments page",
      ),
    usersDelta: (deltaOptions) => delta("users", graphUserSchema, deltaOptions),
    groupsDelta: (deltaOptions) => delta("groups", graphGroupSchema, deltaOptions),
    appRoleAssignmentsDelta: (deltaOptions = {}) =>
      onlyAssignments(
        pages(
          deltaOptions.deltaLink ??
            buildUrl("/directoryObjects/delta", {
              $filter: ASSIGNMENTS_ONLY_FILTER,
              $deltatoken: deltaOptions.latest ? "latest" : undefined,
            }),
          graphAssignmentChangeSchema,
          "app role assignments delta page",
          maxPageSize(deltaOptions.pageSize),
        ),
      ),
    async searchUsers(text, searchOptions = {}) {
      const url = buildUrl("/users", {
        $filter: prefixFilter(["displayName", "userPrincipalName", "mail"], text),
        $select: selectParam(searchOptions.select),
        $top: searchOptions.top ?? 25,
      });
      const page = validate(graphCollectionSchema(graphUserSchema), await getJson(url), url, "users page");
      return page.value;
    },
    async searchGroups(text, searchOptions = {}) {
      const url = buildUrl("/groups", {
        $filter: prefixFilter(["displayName", "mail"], text),
        $select: selectParam(searchOptions.select),
        $top: searchOptions.top ?? 25,
      });
      const page = validate(graphCollectionSchema(graphGroupSchema), await getJson(url), url, "groups page");
      return page.value;
    },
    listUserAppRoleAssignments: (userId, resourceId) =>
      pages(
        buildUrl(`/users/${segment(userId)}/appRoleAssignments`, {
          $filter: `resourceId eq ${guid(resourceId)}`,
        }),
        graphAppRoleAssignmentSchema,
        "app role assignments page",
      ),
    listGroupAppRoleAssignments: (groupId, resourceId) =>
      pages(
        buildUrl(`/groups/${segment(groupId)}/appRoleAssignments`, {
          $filter: `resourceId eq ${guid(resourceId)}`,
        }),
        graphAppRoleAssignmentSchema,
        "app role assignments page",
      ),
    listGroupUserMembers: (groupId, select) =>
      pages(
        buildUrl(`/groups/${segment(groupId)}/members/microsoft.graph.user`, {
          $select: selectParam(select),
          $top: 999,
        }),
        graphUserSchema,
        "user members page",
      ),
    async getAvailableExtensionProperties(extensionOptions = {}) {
      const url = buildUrl("/directoryObjects/getAvailableExtensionProperties");
      const body =
        extensionOptions.isSyncedFromOnPremises === undefined
          ? {}
          : { isSyncedFromOnPremises: extensionOptions.isSyncedFromOnPremises };
      const page = validate(
        graphCollectionSchema(graphExtensionPropertySchema),
        await send(url, {}, body),
        url,
        "list of extension properties",
      );
      return page.value;
    },
  };
}

function describeCause(cause: unknown): string {
  const parts: string[] = [];
  let current: unknown = cause;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const record = current as { message?: unknown; code?: unknown; cause?: unknown };
    if (typeof record.code === "string") parts.push(record.code);
    else if (typeof record.message === "string" && record.message !== "fetch failed")
      parts.push(record.message);
    current = record.cause;
  }
  return parts.join(": ") || "network error";
}

export { GraphAuthError, GraphError };
