import type { IncomingHttpHeaders } from "node:http";
import type {
  AppRoleAssignmentRecord,
  ChangeKind,
  ChangeSummary,
  Directory,
  GraphGroup,
  GraphUser,
  MemberRef,
} from "./directory";
import {
  GraphRequestError,
  parseFilter,
  parseSearch,
  parseSelect,
  parseTop,
  type Predicate,
  type ResourceSpec,
} from "./odata";
import type { VerifiedToken } from "./auth";
import type { ExtensionTarget } from "./extensions";
import { directoryObjectsDelta } from "./assignment-delta";
import { GRAPH_GROUP_PROPERTIES, GRAPH_USER_PROPERTIES } from "../../lib/mapping/source-attributes";

/**
 * Microsoft Graph v1.0 read endpoints over a Directory: what an Entra provisioning engine calls.
 * Each handler returns a plain response; errors are thrown as GraphRequestError and shaped into
 * Graph's error body by the server.
 */

export interface GraphResponse {
  status: number;
  body?: unknown;
  /** A text/plain body (used by /$count). */
  text?: string;
  headers?: Record<string, string>;
}

export interface GraphApiContext {
  directory: Directory;
  /** Public origin of the emulator, e.g. https://localhost:1234; nextLink/deltaLink are built on it. */
  origin: string;
}

// ---------- resource specs ----------

/** Properties the emulator stores no value for: Graph has them, so `$select` must accept them. */
function withRemaining(names: readonly string[]): ResourceSpec["properties"] {
  return Object.fromEntries(names.map((name) => [name, "string" as const]));
}

const USER_PROPERTIES: ResourceSpec["properties"] = {
  // Every property Graph's user has is selectable; those the emulator stores are typed below (the
  // others answer null, as for a user who never had them set).
  ...withRemaining(GRAPH_USER_PROPERTIES),
  id: "string",
  userPrincipalName: "string",
  mail: "string",
  givenName: "string",
  surname: "string",
  displayName: "string",
  jobTitle: "string",
  department: "string",
  mailNickname: "string",
  accountEnabled: "boolean",
  businessPhones: "stringCollection",
  mobilePhone: "string",
  officeLocation: "string",
  country: "string",
  city: "string",
  state: "string",
  postalCode: "string",
  streetAddress: "string",
  usageLocation: "string",
  preferredLanguage: "string",
  companyName: "string",
  employeeId: "string",
  employeeType: "string",
  userType: "string",
  proxyAddresses: "stringCollection",
  createdDateTime: "datetime",
  deletedDateTime: "datetime",
};

export const USER_SPEC: ResourceSpec = {
  typeName: "microsoft.graph.user",
  resourceName: "User",
  properties: USER_PROPERTIES,
  // Graph v1.0 returns only this set unless $select asks for more (department, accountEnabled... must be selected).
  defaultSelect: [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
  ],
  filterEq: new Set([
    "id",
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "surname",
    "mailNickname",
    "jobTitle",
    "department",
    "employeeId",
    "userType",
    "country",
    "city",
    "companyName",
    "usageLocation",
    "accountEnabled",
    "officeLocation",
  ]),
  filterStartsWith: new Set([
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "mailNickname",
    "jobTitle",
    "department",
    "employeeId",
  ]),
  search: new Set([
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "mailNickname",
    "jobTitle",
    "department",
  ]),
};

export const GROUP_SPEC: ResourceSpec = {
  typeName: "microsoft.graph.group",
  resourceName: "Group",
  properties: {
    // As for users: Graph's other group properties are selectable and null here.
    ...withRemaining(GRAPH_GROUP_PROPERTIES),
    id: "string",
    displayName: "string",
    description: "string",
    mail: "string",
    mailEnabled: "boolean",
    mailNickname: "string",
    securityEnabled: "boolean",
    groupTypes: "stringCollection",
    visibility: "string",
    createdDateTime: "datetime",
    deletedDateTime: "datetime",
  },
  defaultSelect: [
    "id",
    "deletedDateTime",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
  ],
  filterEq: new Set(["id", "displayName", "mail", "mailNickname", "mailEnabled", "securityEnabled"]),
  filterStartsWith: new Set(["displayName", "mail", "mailNickname"]),
  search: new Set(["displayName", "description", "mail", "mailNickname"]),
};

const SERVICE_PRINCIPAL_SPEC: ResourceSpec = {
  typeName: "microsoft.graph.servicePrincipal",
  resourceName: "ServicePrincipal",
  properties: {
    id: "string",
    appId: "string",
    appDisplayName: "string",
    displayName: "string",
    accountEnabled: "boolean",
    appRoleAssignmentRequired: "boolean",
    servicePrincipalType: "string",
    servicePrincipalNames: "stringCollection",
    tags: "stringCollection",
    appRoles: "stringCollection",
    createdDateTime: "datetime",
    deletedDateTime: "datetime",
  },
  defaultSelect: [
    "id",
    "deletedDateTime",
    "accountEnabled",
    "appDisplayName",
    "appId",
    "appRoleAssignmentRequired",
    "appRoles",
    "createdDateTime",
    "displayName",
    "servicePrincipalNames",
    "servicePrincipalType",
    "tags",
  ],
  filterEq: new Set(["id", "appId", "displayName"]),
  filterStartsWith: new Set(["displayName"]),
  search: new Set(["displayName"]),
};

const ASSIGNMENT_SPEC: ResourceSpec = {
  typeName: "microsoft.graph.appRoleAssignment",
  resourceName: "AppRoleAssignment",
  properties: {
    id: "string",
    deletedDateTime: "datetime",
    appRoleId: "guid",
    createdDateTime: "datetime",
    principalDisplayName: "string",
    principalId: "guid",
    principalType: "string",
    resourceDisplayName: "string",
    resourceId: "guid",
  },
  defaultSelect: [
    "id",
    "deletedDateTime",
    "appRoleId",
    "createdDateTime",
    "principalDisplayName",
    "principalId",
    "principalType",
    "resourceDisplayName",
    "resourceId",
  ],
  filterEq: new Set(["principalId", "resourceId"]),
  filterStartsWith: new Set(),
  search: new Set(),
};

/** Members of a group are users or groups; $select is checked against both. */
const DIRECTORY_OBJECT_SPEC: ResourceSpec = {
  typeName: "microsoft.graph.directoryObject",
  resourceName: "DirectoryObject",
  properties: { ...GROUP_SPEC.properties, ...USER_PROPERTIES },
  defaultSelect: [],
  filterEq: new Set(),
  filterStartsWith: new Set(),
  search: new Set(),
};

const DEFAULT_PAGE_SIZE = 100;
const USER_DELTA_PAGE_SIZE = 200;
const GROUP_DELTA_PAGE_SIZE = 100;
/** Identity delta links live 7 days in Graph. */
export const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

const KNOWN_QUERY_OPTIONS = new Set([
  "$select",
  "$filter",
  "$top",
  "$search",
  "$count",
  "$skiptoken",
  "$deltatoken",
  "$orderby",
  "$expand",
  "$skip",
  "$format",
  "$levels",
]);

// ---------- request plumbing ----------

export interface Query {
  get(name: string): string | undefined;
  has(name: string): boolean;
  names: string[];
}

/** Graph treats query option names case-insensitively ($Select works). */
export function readQuery(url: URL): Query {
  const map = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const name = key.toLowerCase();
    if (map.has(name))
      throw new GraphRequestError(
        400,
        "BadRequest",
        `Query option '${key}' was specified more than once, but it must be specified at most once.`,
      );
    map.set(name, value);
  }
  return { get: (name) => map.get(name), has: (name) => map.has(name), names: [...map.keys()] };
}

export function allowOnly(query: Query, allowed: readonly string[]): void {
  for (const name of query.names) {
    if (!name.startsWith("$")) continue; // Graph ignores non-OData parameters
    if (!KNOWN_QUERY_OPTIONS.has(name))
      throw new GraphRequestError(400, "BadRequest", `The query parameter '${name}' is not supported.`);
    if (!allowed.includes(name)) {
      if (name === "$skip")
        throw new GraphRequestError(400, "Request_BadRequest", "'$skip' is not supported by the service.");
      throw new GraphRequestError(
        400,
        "Request_UnsupportedQuery",
        `The query option '${name}' is not supported on this endpoint by Microsoft Graph (or by the sandbox emulator).`,
      );
    }
  }
}

function eventual(headers: IncomingHttpHeaders): boolean {
  const value = headers["consistencylevel"];
  return typeof value === "string" && value.trim().toLowerCase() === "eventual";
}

function notFound(id: string): GraphRequestError {
  return new GraphRequestError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

export function project(
  object: object,
  select: readonly string[],
  omitNull = false,
): Record<string, unknown> {
  const source = object as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const name of select) {
    const value = source[name];
    if (omitNull && (value === null || value === undefined)) continue;
    // Graph leaves out an extension attribute the object has no value for, even when selected.
    if (value === undefined && name.startsWith("extension_")) continue;
    result[name] = value === undefined ? null : value;
  }
  return result;
}

export function encodeToken(payload: object): string {
  return Buffer.from(JSON.stringify(payload)).toString("base64url");
}

export function decodeToken<T>(raw: string, what: string): T {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null) return parsed as T;
  } catch {
    // fall through
  }
  throw new GraphRequestError(
    400,
    "BadRequest",
    `Invalid ${what} '${raw.slice(0, 40)}'. Use the link returned by the previous response unchanged.`,
  );
}

/** Query string with literal `$` names as Graph writes its links (URLSearchParams would encode them). */
function queryString(params: [string, string][]): string {
  return params
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/gi, ",").replace(/%3A/gi, ":")}`)
    .join("&");
}

export function contextUrl(ctx: GraphApiContext, fragment: string): string {
  return `${ctx.origin}/v1.0/$metadata#${fragment}`;
}

interface ListCursor {
  /** last ordinal returned */
  o: number;
}

/**
 * Builds one page of a collection: `top` matches after the cursor, and a nextLink carrying the
 * request's own query options plus an opaque $skiptoken when more matches exist.
 */
function listPage<T>(
  ctx: GraphApiContext,
  url: URL,
  source: (afterOrd: number) => Iterable<{ ord: number; value: T }>,
  options: {
    top: number;
    predicate?: Predicate | undefined;
    toJson: (value: T) => Record<string, unknown>;
    context: string;
    count?: (() => number) | undefined;
  },
): GraphResponse {
  const query = readQuery(url);
  const skiptoken = query.get("$skiptoken");
  const after = skiptoken ? decodeToken<ListCursor>(skiptoken, "skip token").o : 0;
  if (typeof after !== "number") throw new GraphRequestError(400, "BadRequest", "Invalid skip token.");
  const items: Record<string, unknown>[] = [];
  let lastOrd = after;
  let more = false;
  for (const entry of source(after)) {
    if (options.predicate && !options.predicate(entry.value as unknown as Record<string, unknown>)) continue;
    if (items.length === options.top) {
      more = true;
      break;
    }
    items.push(options.toJson(entry.value));
    lastOrd = entry.ord;
  }
  const body: Record<string, unknown> = { "@odata.context": contextUrl(ctx, options.context) };
  if (options.count) body["@odata.count"] = options.count();
  if (more) {
    const params: [string, string][] = [];
    for (const [key, value] of url.searchParams)
      if (key.toLowerCase() !== "$skiptoken") params.push([key, value]);
    params.push(["$skiptoken", encodeToken({ o: lastOrd } satisfies ListCursor)]);
    body["@odata.nextLink"] = `${ctx.origin}${url.pathname}?${queryString(params)}`;
  }
  body.value = items;
  return { status: 200, body };
}

// ---------- JSON shapes ----------

function userJson(user: GraphUser, select: readonly string[] | null): Record<string, unknown> {
  return project(user, select ?? USER_SPEC.defaultSelect);
}

function groupJson(group: GraphGroup, select: readonly string[] | null): Record<string, unknown> {
  return project(group, select ?? GROUP_SPEC.defaultSelect);
}

export function assignmentJson(
  ctx: GraphApiContext,
  record: AppRoleAssignmentRecord,
  select: readonly string[] | null,
): Record<string, unknown> {
  const full = {
    id: record.id,
    deletedDateTime: null,
    appRoleId: record.appRoleId,
    createdDateTime: record.createdDateTime,
    principalDisplayName: ctx.directory.principalDisplayName(record.principalId),
    principalId: record.principalId,
    principalType: record.principalType,
    resourceDisplayName: ctx.directory.servicePrincipal.displayName,
    resourceId: record.resourceId,
  };
  return project(full, select ?? ASSIGNMENT_SPEC.defaultSelect);
}

function memberJson(
  ctx: GraphApiContext,
  member: MemberRef,
  select: readonly string[] | null,
): Record<string, unknown> {
  if (member.type === "user") {
    const user = ctx.directory.getUser(member.id)!;
    const props = select ? select.filter((p) => p in USER_PROPERTIES) : USER_SPEC.defaultSelect;
    return { "@odata.type": "#microsoft.graph.user", ...project(user, props) };
  }
  const group = ctx.directory.getGroup(member.id)!;
  const props = select ? select.filter((p) => p in GROUP_SPEC.properties) : GROUP_SPEC.defaultSelect;
  return { "@odata.type": "#microsoft.graph.group", ...project(group, props) };
}

/** The extension attributes registered for a type: `$select` accepts them like the type's own properties. */
function extensionsOf(ctx: GraphApiContext, target: ExtensionTarget): string[] {
  return ctx.directory.extensions.namesFor(target);
}

function deltaSelectExtras(ctx: GraphApiContext, kind: "users" | "groups"): string[] {
  return kind === "groups" ? ["members", ...extensionsOf(ctx, "Group")] : extensionsOf(ctx, "User");
}

function selectFragment(select: readonly string[] | null): string {
  return select ? `(${select.filter((p) => p !== "id").join(",") || "id"})` : "";
}

// ---------- collection endpoints ----------

function listUsers(
  ctx: GraphApiContext,
  url: URL,
  headers: IncomingHttpHeaders,
  deletedOnly = false,
): GraphResponse {
  const query = readQuery(url);
  allowOnly(query, ["$select", "$filter", "$top", "$search", "$count", "$skiptoken"]);
  const select = parseSelect(query.get("$select"), USER_SPEC, extensionsOf(ctx, "User"));
  const top = parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE;
  const predicate = buildPredicate(query, headers, USER_SPEC);
  const source = (after: number) =>
    mapEntries(
      deletedOnly ? ctx.directory.deletedUsersAfter(after) : ctx.directory.activeUsersAfter(after),
      (e) => e.user,
    );
  const count = countOption(query, headers, () => countMatches(source(0), predicate));
  return listPage(ctx, url, source, {
    top,
    predicate,
    toJson: (user) => userJson(user, select),
    context: deletedOnly
      ? `directory/deletedItems/microsoft.graph.user${selectFragment(select)}`
      : `users${selectFragment(select)}`,
    count,
  });
}

function* mapEntries<S, T>(
  entries: Iterable<{ ord: number } & S>,
  pick: (entry: S) => T,
): Generator<{ ord: number; value: T }> {
  for (const entry of entries) yield { ord: entry.ord, value: pick(entry) };
}

function countMatches<T>(entries: Iterable<{ value: T }>, predicate: Predicate | undefined): number {
  let n = 0;
  for (const entry of entries)
    if (!predicate || predicate(entry.value as unknown as Record<string, unknown>)) n++;
  return n;
}

function countOption(
  query: Query,
  headers: IncomingHttpHeaders,
  count: () => number,
): (() => number) | undefined {
  const raw = query.get("$count");
  if (raw === undefined) return undefined;
  if (raw !== "true" && raw !== "false")
    throw new GraphRequestError(
      400,
      "BadRequest",
      `Invalid value '${raw}' for $count query option found. Valid values are 'true' and 'false'.`,
    );
  if (raw === "false") return undefined;
  // Directory objects count only as an advanced query.
  if (!eventual(headers))
    throw new GraphRequestError(400, "Request_BadRequest", "$count is not currently supported.");
  return count;
}

function buildPredicate(
  query: Query,
  headers: IncomingHttpHeaders,
  spec: ResourceSpec,
): Predicate | undefined {
  const parts: Predicate[] = [];
  const filter = query.get("$filter");
  if (filter !== undefined) parts.push(parseFilter(filter, spec));
  const search = query.get("$search");
  if (search !== undefined) {
    if (!eventual(headers)) {
      throw new GraphRequestError(
        400,
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
      );
    }
    parts.push(parseSearch(search, spec));
  }
  if (parts.length === 0) return undefined;
  return (o) => parts.every((p) => p(o));
}

function listGroups(ctx: GraphApiContext, url: URL, headers: IncomingHttpHeaders): GraphResponse {
  const query = readQuery(url);
  allowOnly(query, ["$select", "$filter", "$top", "$search", "$count", "$skiptoken"]);
  const select = parseSelect(query.get("$select"), GROUP_SPEC, extensionsOf(ctx, "Group"));
  const top = parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE;
  const predicate = buildPredicate(query, headers, GROUP_SPEC);
  const source = (after: number) => mapEntries(ctx.directory.groupsAfter(after), (e) => e.group);
  const count = countOption(query, headers, () => countMatches(source(0), predicate));
  return listPage(ctx, url, source, {
    top,
    predicate,
    toJson: (g) => groupJson(g, select),
    context: `groups${selectFragment(select)}`,
    count,
  });
}

function listMembers(
  ctx: GraphApiContext,
  url: URL,
  headers: IncomingHttpHeaders,
  groupId: string,
  cast?: "user" | "group",
): GraphResponse {
  const query = readQuery(url);
  allowOnly(query, ["$select", "$top", "$count", "$skiptoken"]);
  if (!ctx.directory.getGroup(groupId)) throw notFound(groupId);
  const select = parseSelect(query.get("$select"), DIRECTORY_OBJECT_SPEC);
  const top = parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE;
  const source = (after: number) => {
    const entries = mapEntries(ctx.directory.membersAfter(groupId, after), (e) => e.member);
    return cast ? filterEntries(entries, (m) => m.type === cast) : entries;
  };
  const count = countOption(query, headers, () => countMatches(source(0), undefined));
  const context = cast
    ? `${cast === "user" ? "users" : "groups"}${selectFragment(select)}`
    : `directoryObjects${selectFragment(select)}`;
  return listPage(ctx, url, source, { top, toJson: (m) => memberJson(ctx, m, select), context, count });
}

function* filterEntries<T>(
  entries: Iterable<{ ord: number; value: T }>,
  keep: (value: T) => boolean,
): Generator<{ ord: number; value: T }> {
  for (const entry of entries) if (keep(entry.value)) yield entry;
}

function listAssignments(
  ctx: GraphApiContext,
  url: URL,
  headers: IncomingHttpHeaders,
  source: (after: number) => Iterable<{ ord: number; value: AppRoleAssignmentRecord }>,
  context: string,
): GraphResponse {
  const query = readQuery(url);
  allowOnly(query, ["$select", "$top", "$count", "$skiptoken", "$filter"]);
  const select = parseSelect(query.get("$select"), ASSIGNMENT_SPEC);
  const top = parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE;
  const filter = query.get("$filter");
  const predicate = filter !== undefined ? parseFilter(filter, ASSIGNMENT_SPEC) : undefined;
  const count = countOption(query, headers, () => countMatches(source(0), predicate));
  return listPage(ctx, url, source, {
    top,
    predicate,
    toJson: (a) => assignmentJson(ctx, a, select),
    context: `${context}${selectFragment(select)}`,
    count,
  });
}

function servicePrincipalJson(
  ctx: GraphApiContext,
  select: readonly string[] | null,
): Record<string, unknown> {
  return project(ctx.directory.servicePrincipal, select ?? SERVICE_PRINCIPAL_SPEC.defaultSelect);
}

// ---------- delta ----------

interface DeltaState {
  /** "i" = initial round paging the current state; "c" = paging changes in (from, to]. */
  m: "i" | "c";
  k: "users" | "groups";
  g: string;
  /** seq at which this round's snapshot was taken; becomes the next deltaLink's watermark. */
  to: number;
  from?: number;
  /** initial rounds: last ordinal returned; change rounds: index into the change list. */
  pos: number;
  s: string[] | null;
  ids: string[] | null;
  n: number;
  min?: boolean;
  ts: number;
}

interface DeltaLinkState {
  k: "users" | "groups";
  g: string;
  seq: number;
  s: string[] | null;
  ids: string[] | null;
  n: number | null;
  ts: number;
}

export function syncStateNotFound(): GraphRequestError {
  return new GraphRequestError(
    400,
    "syncStateNotFound",
    "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
  );
}

/** `$filter=id eq 'a' or id eq 'b'` is the only filter delta accepts (50 ids at most). */
function parseDeltaFilter(raw: string | undefined, spec: ResourceSpec): string[] | null {
  if (raw === undefined) return null;
  const ids: string[] = [];
  for (const clause of raw.split(/\s+or\s+/i)) {
    const match = /^\s*id\s+eq\s+'([^']+)'\s*$/i.exec(clause);
    if (!match) {
      throw new GraphRequestError(
        400,
        "Request_UnsupportedQuery",
        `Unsupported or invalid query filter clause specified for property '${clause.trim().split(/\s|\(/)[0] ?? ""}' of resource '${spec.resourceName}'. Delta supports only 'id eq' filters.`,
      );
    }
    ids.push(match[1]!.toLowerCase());
  }
  if (ids.length > 50)
    throw new GraphRequestError(
      400,
      "Request_UnsupportedQuery",
      "Too many object ids in the delta filter: the limit is 50.",
    );
  return ids;
}

function delta(
  ctx: GraphApiContext,
  url: URL,
  headers: IncomingHttpHeaders,
  kind: "users" | "groups",
): GraphResponse {
  const query = readQuery(url);
  const spec = kind === "users" ? USER_SPEC : GROUP_SPEC;
  const directory = ctx.directory;
  const minimal = /return=minimal/i.test(String(headers["prefer"] ?? ""));
  const skiptoken = query.get("$skiptoken");
  const deltatoken = query.get("$deltatoken");
  let state: DeltaState;

  if (skiptoken !== undefined) {
    allowOnly(query, ["$skiptoken"]);
    state = decodeToken<DeltaState>(skiptoken, "skip token");
    if (state.k !== kind)
      throw new GraphRequestError(400, "BadRequest", "The skip token belongs to a different collection.");
    if (state.g !== directory.generation) throw syncStateNotFound();
  } else if (deltatoken !== undefined && deltatoken.toLowerCase() !== "latest") {
    allowOnly(query, ["$deltatoken", "$select"]);
    const link = decodeToken<DeltaLinkState>(deltatoken, "delta token");
    if (link.k !== kind || typeof link.seq !== "number")
      throw new GraphRequestError(400, "BadRequest", "The delta token belongs to a different collection.");
    if (link.g !== directory.generation || Date.now() - link.ts > DELTA_TOKEN_LIFETIME_MS)
      throw syncStateNotFound();
    // Graph lets a deltaLink change the tracked properties with a new $select.
    const select = query.has("$select")
      ? parseSelect(query.get("$select"), spec, deltaSelectExtras(ctx, kind))
      : link.s;
    state = {
      m: "c",
      k: kind,
      g: link.g,
      from: link.seq,
      to: directory.currentSeq,
      pos: 0,
      s: select,
      ids: link.ids,
      n: link.n ?? defaultDeltaPage(kind),
      ts: Date.now(),
    };
  } else {
    allowOnly(query, ["$select", "$filter", "$deltatoken", "$top"]);
    const select = parseSelect(query.get("$select"), spec, deltaSelectExtras(ctx, kind));
    const ids = parseDeltaFilter(query.get("$filter"), spec);
    const top = parseTop(query.get("$top"));
    if (deltatoken !== undefined) {
      // "Sync from now": no data, just a deltaLink at the current position.
      return {
        status: 200,
        body: deltaBody(
          ctx,
          kind,
          select,
          [],
          deltaLinkFor(ctx, {
            k: kind,
            g: directory.generation,
            seq: directory.currentSeq,
            s: select,
            ids,
            n: top ?? null,
            ts: Date.now(),
          }),
        ),
      };
    }
    state = {
      m: "i",
      k: kind,
      g: directory.generation,
      to: directory.currentSeq,
      pos: 0,
      s: select,
      ids,
      n: top ?? defaultDeltaPage(kind),
      ts: Date.now(),
    };
  }
  if (minimal) state.min = true;

  const items: Record<string, unknown>[] = [];
  let more = false;
  const idFilter = state.ids ? new Set(state.ids) : null;
  const trackMembers = kind === "groups" && (state.s === null || state.s.includes("members"));
  const props = (state.s ?? spec.defaultSelect).filter((p) => p !== "members");

  if (state.m === "i") {
    const entries: Iterable<{ ord: number; id: string; value: GraphUser | GraphGroup }> =
      kind === "users"
        ? mapOrd(directory.activeUsersAfter(state.pos), (e) => e.user)
        : mapOrd(directory.groupsAfter(state.pos), (e) => e.group);
    for (const entry of entries) {
      if (idFilter && !idFilter.has(entry.id)) continue;
      if (items.length === state.n) {
        more = true;
        break;
      }
      // Initial rounds leave out properties that were never set.
      const item = project(entry.value, props, true);
      if (trackMembers) addMembersDelta(ctx, item, entry.id, null);
      items.push(item);
      state.pos = entry.ord;
    }
    // Graph returns an object again, later in the same round, when it changed while the round was being
    // paged ("the same object may be returned more than once; use the last one").
    if (!more && directory.currentSeq > state.to) {
      for (const change of cachedChanges(directory, kind, state.to, directory.currentSeq)) {
        if (idFilter && !idFilter.has(change.id)) continue;
        const item = changeItem(ctx, kind, change, props, state.s !== null, trackMembers, false);
        if (item) items.push(item);
      }
    }
  } else {
    const changes = cachedChanges(directory, kind, state.from ?? 0, state.to);
    let i = state.pos;
    for (; i < changes.length; i++) {
      const change = changes[i]!;
      if (idFilter && !idFilter.has(change.id)) continue;
      const item = changeItem(ctx, kind, change, props, state.s !== null, trackMembers, state.min === true);
      if (!item) continue;
      if (items.length === state.n) {
        more = true;
        break;
      }
      items.push(item);
    }
    state.pos = i;
  }

  const select = state.s;
  if (more) {
    return {
      status: 200,
      body: deltaBody(
        ctx,
        kind,
        select,
        items,
        undefined,
        `${ctx.origin}/v1.0/${kind}/delta?$skiptoken=${encodeToken(state)}`,
      ),
    };
  }
  const link: DeltaLinkState = {
    k: kind,
    g: state.g,
    seq: state.to,
    s: state.s,
    ids: state.ids,
    n: state.n,
    ts: Date.now(),
  };
  return { status: 200, body: deltaBody(ctx, kind, select, items, deltaLinkFor(ctx, link)) };
}

function defaultDeltaPage(kind: "users" | "groups"): number {
  return kind === "users" ? USER_DELTA_PAGE_SIZE : GROUP_DELTA_PAGE_SIZE;
}

function* mapOrd<E extends { ord: number }, T extends { id: string }>(
  entries: Iterable<E>,
  pick: (e: E) => T,
): Generator<{ ord: number; id: string; value: T }> {
  for (const entry of entries) {
    const value = pick(entry);
    yield { ord: entry.ord, id: value.id, value };
  }
}

function deltaLinkFor(ctx: GraphApiContext, link: DeltaLinkState): string {
  return `${ctx.origin}/v1.0/${link.k}/delta?$deltatoken=${encodeToken(link)}`;
}

function deltaBody(
  ctx: GraphApiContext,
  kind: string,
  select: readonly string[] | null,
  items: Record<string, unknown>[],
  deltaLink?: string,
  nextLink?: string,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    "@odata.context": contextUrl(ctx, `${kind}${selectFragment(select)}`),
  };
  if (nextLink) body["@odata.nextLink"] = nextLink;
  if (deltaLink) body["@odata.deltaLink"] = deltaLink;
  body.value = items;
  return body;
}

function addMembersDelta(
  ctx: GraphApiContext,
  item: Record<string, unknown>,
  groupId: string,
  changed: Map<string, "user" | "group"> | null,
): void {
  const entries: Record<string, unknown>[] = [];
  if (changed === null) {
    for (const member of ctx.directory.listMembers(groupId))
      entries.push({ "@odata.type": `#microsoft.graph.${member.type}`, id: member.id });
  } else {
    for (const [id, type] of changed) {
      const entry: Record<string, unknown> = { "@odata.type": `#microsoft.graph.${type}`, id };
      if (!ctx.directory.isMember(groupId, id)) entry["@removed"] = { reason: "deleted" };
      entries.push(entry);
    }
  }
  if (entries.length > 0) item["members@delta"] = entries;
}

export function changeItem(
  ctx: GraphApiContext,
  kind: "users" | "groups",
  change: ChangeSummary,
  props: readonly string[],
  explicitSelect: boolean,
  trackMembers: boolean,
  minimal: boolean,
): Record<string, unknown> | null {
  const directory = ctx.directory;
  if (kind === "users") {
    const user = directory.getUser(change.id);
    if (!user) {
      const reason = directory.getDeletedUser(change.id) ? "changed" : "deleted";
      return { id: change.id, "@removed": { reason } };
    }
    // With $select, changes to properties nobody tracks do not surface the object.
    if (!change.whole && explicitSelect && !props.some((p) => change.props.has(p))) return null;
    return deltaProjection(user, props, change, minimal);
  }
  const group = directory.getGroup(change.id);
  if (!group) return { id: change.id, "@removed": { reason: "deleted" } };
  const propsChanged = change.whole || props.some((p) => change.props.has(p));
  const membersChanged = trackMembers && (change.whole || change.members.size > 0);
  if (!propsChanged && !membersChanged) return null;
  const item = deltaProjection(group, props, change, minimal);
  if (trackMembers) addMembersDelta(ctx, item, change.id, change.whole ? null : change.members);
  return item;
}

/** Properties changed in the window are sent even when now null; unchanged ones only if set (or not at all with return=minimal). */
function deltaProjection(
  object: GraphUser | GraphGroup,
  props: readonly string[],
  change: ChangeSummary,
  minimal: boolean,
): Record<string, unknown> {
  const source = object as unknown as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const name of props) {
    const changed = change.whole || change.props.has(name);
    const value = source[name];
    if (name === "id") result.id = value;
    else if (changed && !change.whole) result[name] = value ?? null;
    else if (minimal && !change.whole) continue;
    else if (value !== null && value !== undefined) result[name] = value;
  }
  return result;
}

/** Change windows are recomputed per page; a tiny cache keeps paging a large window linear. */
const changeCache = new WeakMap<Directory, Map<string, ChangeSummary[]>>();

export function cachedChanges(
  directory: Directory,
  kind: ChangeKind | "users" | "groups",
  from: number,
  to: number,
): ChangeSummary[] {
  const k = kind === "users" ? "user" : kind === "groups" ? "group" : kind;
  let cache = changeCache.get(directory);
  if (!cache) changeCache.set(directory, (cache = new Map()));
  const key = `${directory.generation}:${k}:${from}:${to}`;
  let changes = cache.get(key);
  if (!changes) {
    changes = directory.changesBetween(k, from, to);
    if (cache.size > 16) cache.delete(cache.keys().next().value!);
    cache.set(key, changes);
  }
  return changes;
}

// ---------- routing ----------

const USER_ROLES = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const GROUP_ROLES = [
  "Group.Read.All",
  "GroupMember.Read.All",
  "Group.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
const APPLICATION_ROLES = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];

function requireRole(token: VerifiedToken, accepted: readonly string[]): void {
  if (!token.roles.some((role) => accepted.includes(role))) {
    throw new GraphRequestError(
      403,
      "Authorization_RequestDenied",
      "Insufficient privileges to complete the operation.",
    );
  }
}

/** Handles a request under /v1.0 (already authenticated). `path` excludes the /v1.0 prefix. */
export function handleGraph(
  ctx: GraphApiContext,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  token: VerifiedToken,
  body?: unknown,
): GraphResponse {
  const path = url.pathname.replace(/^\/v1\.0/, "").replace(/\/+$/, "");
  const segments = path
    .split("/")
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  if (segments.length === 0)
    throw new GraphRequestError(400, "BadRequest", "Invalid request: no resource segment.");
  const [root, id, sub, cast] = segments;
  if (root === "directoryObjects" && id === "getAvailableExtensionProperties" && sub === undefined)
    return availableExtensionProperties(ctx, method, body, token);
  if (method !== "GET" && method !== "HEAD") {
    throw new GraphRequestError(
      405,
      "Request_BadRequest",
      `The sandbox Graph emulator is read-only: ${method} is not supported. Change the directory through /_sandbox/.`,
    );
  }

  switch (root) {
    case "users": {
      requireRole(token, USER_ROLES);
      if (id === undefined) return listUsers(ctx, url, headers);
      if (id === "delta" || id === "microsoft.graph.delta()" || id === "microsoft.graph.delta") {
        if (sub !== undefined) break;
        return delta(ctx, url, headers, "users");
      }
      if (id === "$count") return countOnly(headers, () => ctx.directory.listUsers().length);
      const user = ctx.directory.getUser(id);
      if (!user) throw notFound(id);
      if (sub === undefined) {
        const query = readQuery(url);
        allowOnly(query, ["$select"]);
        const select = parseSelect(query.get("$select"), USER_SPEC, extensionsOf(ctx, "User"));
        return {
          status: 200,
          body: {
            "@odata.context": contextUrl(ctx, `users${selectFragment(select)}/$entity`),
            ...userJson(user, select),
          },
        };
      }
      if (sub === "appRoleAssignments" && cast === undefined) {
        // Graph also returns the assignments of the groups the user is a direct member of (not nested).
        const records = [
          ...ctx.directory.assignmentsOf(user.id),
          ...ctx.directory.memberOf(user.id).flatMap((groupId) => ctx.directory.assignmentsOf(groupId)),
        ];
        return listAssignments(
          ctx,
          url,
          headers,
          (after) => records.map((value, i) => ({ ord: i + 1, value })).filter((e) => e.ord > after),
          `users('${user.id}')/appRoleAssignments`,
        );
      }
      if (sub === "memberOf" && cast === undefined) return memberOf(ctx, url, user.id);
      break;
    }
    case "groups": {
      requireRole(token, GROUP_ROLES);
      if (id === undefined) return listGroups(ctx, url, headers);
      if (id === "delta" || id === "microsoft.graph.delta()" || id === "microsoft.graph.delta") {
        if (sub !== undefined) break;
        return delta(ctx, url, headers, "groups");
      }
      if (id === "$count") return countOnly(headers, () => ctx.directory.listGroups().length);
      const group = ctx.directory.getGroup(id);
      if (!group) throw notFound(id);
      if (sub === undefined) {
        const query = readQuery(url);
        allowOnly(query, ["$select"]);
        const select = parseSelect(query.get("$select"), GROUP_SPEC, extensionsOf(ctx, "Group"));
        return {
          status: 200,
          body: {
            "@odata.context": contextUrl(ctx, `groups${selectFragment(select)}/$entity`),
            ...groupJson(group, select),
          },
        };
      }
      if (sub === "members") {
        if (cast === undefined) return listMembers(ctx, url, headers, group.id);
        if (cast === "microsoft.graph.user") return listMembers(ctx, url, headers, group.id, "user");
        if (cast === "microsoft.graph.group") return listMembers(ctx, url, headers, group.id, "group");
        if (cast === "$count") return countOnly(headers, () => ctx.directory.listMembers(group.id).length);
      }
      if (sub === "appRoleAssignments" && cast === undefined) {
        const records = ctx.directory.assignmentsOf(group.id);
        return listAssignments(
          ctx,
          url,
          headers,
          (after) => records.map((value, i) => ({ ord: i + 1, value })).filter((e) => e.ord > after),
          `groups('${group.id}')/appRoleAssignments`,
        );
      }
      break;
    }
    case "servicePrincipals": {
      requireRole(token, APPLICATION_ROLES);
      const sp = ctx.directory.servicePrincipal;
      if (id === undefined) {
        const query = readQuery(url);
        allowOnly(query, ["$select", "$filter", "$top", "$skiptoken"]);
        const select = parseSelect(query.get("$select"), SERVICE_PRINCIPAL_SPEC);
        const filter = query.get("$filter");
        const predicate = filter !== undefined ? parseFilter(filter, SERVICE_PRINCIPAL_SPEC) : undefined;
        return listPage(ctx, url, (after) => (after < 1 ? [{ ord: 1, value: sp }] : []), {
          top: parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE,
          predicate,
          toJson: () => servicePrincipalJson(ctx, select),
          context: `servicePrincipals${selectFragment(select)}`,
        });
      }
      const alternate = /^\(appId='([^']+)'\)$/.exec(id.replace(/^servicePrincipals/, ""));
      const matches =
        id.toLowerCase() === sp.id || (alternate !== null && alternate[1]!.toLowerCase() === sp.appId);
      if (!matches) throw notFound(id);
      if (sub === undefined) {
        const query = readQuery(url);
        allowOnly(query, ["$select"]);
        const select = parseSelect(query.get("$select"), SERVICE_PRINCIPAL_SPEC);
        return {
          status: 200,
          body: {
            "@odata.context": contextUrl(ctx, `servicePrincipals${selectFragment(select)}/$entity`),
            ...servicePrincipalJson(ctx, select),
          },
        };
      }
      if (sub === "appRoleAssignedTo" && cast === undefined) {
        return listAssignments(
          ctx,
          url,
          headers,
          (after) => mapEntries(ctx.directory.assignmentsAfter(after), (e) => e.assignment),
          `servicePrincipals('${sp.id}')/appRoleAssignedTo`,
        );
      }
      break;
    }
    case "directory": {
      // /directory/deletedItems/microsoft.graph.user[/{id}]
      if (id === "deletedItems") {
        requireRole(token, USER_ROLES);
        if (sub === "microsoft.graph.user" && cast === undefined) return listUsers(ctx, url, headers, true);
        if (sub !== undefined && sub !== "microsoft.graph.user" && cast === undefined) {
          const user = ctx.directory.getDeletedUser(sub);
          if (!user) throw notFound(sub);
          return {
            status: 200,
            body: {
              "@odata.context": contextUrl(ctx, "directory/deletedItems/$entity"),
              "@odata.type": "#microsoft.graph.user",
              ...userJson(user, null),
            },
          };
        }
      }
      break;
    }
    case "directoryObjects": {
      if (id === "delta" || id === "microsoft.graph.delta()" || id === "microsoft.graph.delta") {
        if (sub !== undefined) break;
        // Graph asks User.Read.All for the appRoleAssignment and user types, the only ones emulated.
        requireRole(token, USER_ROLES);
        return directoryObjectsDelta(ctx, url, headers);
      }
      break;
    }
    default:
      break;
  }
  throw new GraphRequestError(
    400,
    "BadRequest",
    `Resource not found for the segment '${segments[segments.length - 1]}'.`,
  );
}

const DIRECTORY_ROLES = ["Directory.Read.All", "Directory.ReadWrite.All"];

/**
 * POST /directoryObjects/getAvailableExtensionProperties: the tenant's directory extension definitions.
 * Graph requires Directory.Read.All for it; the optional body narrows by isSyncedFromOnPremises.
 */
function availableExtensionProperties(
  ctx: GraphApiContext,
  method: string,
  body: unknown,
  token: VerifiedToken,
): GraphResponse {
  if (method !== "POST")
    throw new GraphRequestError(
      405,
      "Request_BadRequest",
      `The OData action getAvailableExtensionProperties answers POST only, not ${method}.`,
    );
  requireRole(token, DIRECTORY_ROLES);
  const parameters = body ?? {};
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters))
    throw new GraphRequestError(400, "BadRequest", "The request body must be a JSON object.");
  const { isSyncedFromOnPremises, ...rest } = parameters as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw new GraphRequestError(
      400,
      "Request_BadRequest",
      `The parameter '${unknown}' in the request payload is not a valid parameter for the operation 'getAvailableExtensionProperties'.`,
    );
  if (isSyncedFromOnPremises !== undefined && typeof isSyncedFromOnPremises !== "boolean")
    throw new GraphRequestError(
      400,
      "BadRequest",
      "Cannot convert the literal to the expected type 'Edm.Boolean' (parameter isSyncedFromOnPremises).",
    );
  return {
    status: 200,
    body: {
      "@odata.context": contextUrl(ctx, "Collection(microsoft.graph.extensionProperty)"),
      value: ctx.directory.extensions.list(isSyncedFromOnPremises).map((definition) => ({
        "@odata.type": "#microsoft.graph.extensionProperty",
        ...definition,
      })),
    },
  };
}

function memberOf(ctx: GraphApiContext, url: URL, userId: string): GraphResponse {
  const query = readQuery(url);
  allowOnly(query, ["$select", "$top", "$skiptoken"]);
  const select = parseSelect(query.get("$select"), GROUP_SPEC, extensionsOf(ctx, "Group"));
  const groups = ctx.directory.memberOf(userId).flatMap((id) => {
    const group = ctx.directory.getGroup(id);
    return group ? [group] : [];
  });
  return listPage(
    ctx,
    url,
    (after) => groups.map((value, i) => ({ ord: i + 1, value })).filter((e) => e.ord > after),
    {
      top: parseTop(query.get("$top")) ?? DEFAULT_PAGE_SIZE,
      toJson: (g) => ({ "@odata.type": "#microsoft.graph.group", ...groupJson(g, select) }),
      context: "directoryObjects",
    },
  );
}

function countOnly(headers: IncomingHttpHeaders, count: () => number): GraphResponse {
  if (!eventual(headers))
    throw new GraphRequestError(400, "Request_BadRequest", "Count is not currently supported.");
  return { status: 200, text: String(count()) };
}
