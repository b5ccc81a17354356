import type { IncomingHttpHeaders } from "node:http";
import type { ChangeSummary } from "./directory";
import { GraphRequestError } from "./odata";
// graph-api.ts routes here and this file reuses its plumbing: the import cycle is safe because
// nothing from it is used before a request arrives.
import {
  allowOnly,
  assignmentJson,
  cachedChanges,
  changeItem,
  contextUrl,
  decodeToken,
  DELTA_TOKEN_LIFETIME_MS,
  encodeToken,
  project,
  readQuery,
  syncStateNotFound,
  USER_SPEC,
  type GraphApiContext,
  type GraphResponse,
} from "./graph-api";

/**
 * GET /v1.0/directoryObjects/delta for the derived types appRoleAssignment and user: how a poller
 * learns that assignments changed without reading every assignment each time. Graph requires a
 * filter on the derived type (`isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')`);
 * the emulator tracks those two. Tokens carry their state, as users/groups delta's do, so a deltaLink
 * can be replayed.
 */

type TrackedType = "appRoleAssignment" | "user";

/** Canonical order: an initial round pages assignments first, then users. */
const TRACKED_TYPES: readonly TrackedType[] = ["appRoleAssignment", "user"];
const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 999;

interface ObjectsDeltaState {
  /** "i" = initial round paging the current state; "c" = paging changes in (from, to]. */
  m: "i" | "c";
  k: "directoryObjects";
  g: string;
  /** seq at which this round's snapshot was taken; becomes the next deltaLink's watermark. */
  to: number;
  from?: number;
  t: TrackedType[];
  /** Initial rounds: the type being paged. */
  ph?: TrackedType;
  /** Initial rounds: last ordinal of `ph` returned; change rounds: index into the types' changes. */
  pos: number;
  min?: boolean;
  ts: number;
}

interface ObjectsDeltaLink {
  k: "directoryObjects";
  g: string;
  seq: number;
  t: TrackedType[];
  ts: number;
}

function unsupportedQuery(message: string): GraphRequestError {
  return new GraphRequestError(400, "Request_UnsupportedQuery", message);
}

const FILTER_HELP =
  "directoryObjects/delta needs $filter=isof('microsoft.graph.appRoleAssignment'), isof('microsoft.graph.user') or both joined by 'or'";

function parseTypeFilter(raw: string | undefined): TrackedType[] {
  if (raw === undefined || raw.trim() === "")
    throw unsupportedQuery(`${FILTER_HELP}: Graph requires a filter on the derived type to track.`);
  const wanted = new Set<TrackedType>();
  for (const clause of raw.split(/\s+or\s+/i)) {
    const match = /^\s*isof\('microsoft\.graph\.([A-Za-z]+)'\)\s*$/.exec(clause);
    if (!match)
      throw unsupportedQuery(
        `Unsupported filter clause '${clause.trim()}': ${FILTER_HELP} (the sandbox emulator accepts no other filter here).`,
      );
    const type = TRACKED_TYPES.find((t) => t === match[1]);
    if (!type)
      throw unsupportedQuery(
        `isof('microsoft.graph.${match[1]}') is not emulated: the sandbox's directoryObjects/delta tracks microsoft.graph.appRoleAssignment and microsoft.graph.user only.`,
      );
    wanted.add(type);
  }
  return TRACKED_TYPES.filter((t) => wanted.has(t));
}

function preferences(headers: IncomingHttpHeaders): { pageSize: number | undefined; minimal: boolean } {
  const prefer = String(headers["prefer"] ?? "");
  const size = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer);
  const pageSize = size ? Number(size[1]) : undefined;
  return {
    pageSize: pageSize && pageSize > 0 ? Math.min(pageSize, MAX_PAGE_SIZE) : undefined,
    minimal: /return=minimal/i.test(prefer),
  };
}

function checkTypes(t: unknown): TrackedType[] {
  if (!Array.isArray(t) || t.length === 0 || !t.every((v) => TRACKED_TYPES.includes(v as TrackedType)))
    throw new GraphRequestError(400, "BadRequest", "The delta token belongs to a different collection.");
  return t as TrackedType[];
}

export function directoryObjectsDelta(
  ctx: GraphApiContext,
  url: URL,
  headers: IncomingHttpHeaders,
): GraphResponse {
  const query = readQuery(url);
  const directory = ctx.directory;
  const prefer = preferences(headers);
  const skiptoken = query.get("$skiptoken");
  const deltatoken = query.get("$deltatoken");
  let state: ObjectsDeltaState;

  if (skiptoken !== undefined) {
    allowOnly(query, ["$skiptoken"]);
    state = decodeToken<ObjectsDeltaState>(skiptoken, "skip token");
    if (state.k !== "directoryObjects")
      throw new GraphRequestError(400, "BadRequest", "The skip token belongs to a different collection.");
    checkTypes(state.t);
    if (state.g !== directory.generation) throw syncStateNotFound();
  } else if (deltatoken !== undefined && deltatoken.toLowerCase() !== "latest") {
    allowOnly(query, ["$deltatoken"]);
    const link = decodeToken<ObjectsDeltaLink>(deltatoken, "delta token");
    if (link.k !== "directoryObjects" || typeof link.seq !== "number")
      throw new GraphRequestError(400, "BadRequest", "The delta token belongs to a different collection.");
    const types = checkTypes(link.t);
    if (link.g !== directory.generation || Date.now() - link.ts > DELTA_TOKEN_LIFETIME_MS)
      throw syncStateNotFound();
    state = {
      m: "c",
      k: "directoryObjects",
      g: link.g,
      from: link.seq,
      to: directory.currentSeq,
      t: types,
      pos: 0,
      ts: Date.now(),
    };
  } else {
    allowOnly(query, ["$filter", "$deltatoken"]);
    const types = parseTypeFilter(query.get("$filter"));
    if (deltatoken !== undefined) {
      // "Sync from now": no data, just a deltaLink at the current position.
      const link: ObjectsDeltaLink = {
        k: "directoryObjects",
        g: directory.generation,
        seq: directory.currentSeq,
        t: types,
        ts: Date.now(),
      };
      return { status: 200, body: deltaBody(ctx, [], { deltaLink: deltaLinkFor(ctx, link) }) };
    }
    state = {
      m: "i",
      k: "directoryObjects",
      g: directory.generation,
      to: directory.currentSeq,
      t: types,
      pos: 0,
      ts: Date.now(),
    };
  }
  if (prefer.minimal) state.min = true;

  const pageSize = prefer.pageSize ?? DEFAULT_PAGE_SIZE;
  const items: Record<string, unknown>[] = [];
  let more = false;

  if (state.m === "i") {
    let phase: TrackedType | undefined = state.ph ?? state.t[0];
    while (phase !== undefined) {
      for (const entry of currentObjects(ctx, phase, state.pos)) {
        if (items.length === pageSize) {
          more = true;
          break;
        }
        items.push(entry.item);
        state.pos = entry.ord;
      }
      if (more) break;
      phase = state.t[state.t.indexOf(phase) + 1];
      state.pos = 0;
    }
    state.ph = phase;
    // As users delta does: what changed while the round was paged comes again at its end, newer.
    if (!more && directory.currentSeq > state.to) {
      const late = changeList(ctx, state.t, state.to, directory.currentSeq);
      for (let i = 0; i < late.length; i++) {
        const item = late.item(i, false);
        if (item) items.push(item);
      }
    }
  } else {
    const changes = changeList(ctx, state.t, state.from ?? 0, state.to);
    let i = state.pos;
    for (; i < changes.length; i++) {
      const item = changes.item(i, state.min === true);
      if (!item) continue;
      if (items.length === pageSize) {
        more = true;
        break;
      }
      items.push(item);
    }
    state.pos = i;
  }

  if (more) {
    const nextLink = `${ctx.origin}/v1.0/directoryObjects/delta?$skiptoken=${encodeToken(state)}`;
    return { status: 200, body: deltaBody(ctx, items, { nextLink }) };
  }
  const link: ObjectsDeltaLink = {
    k: "directoryObjects",
    g: state.g,
    seq: state.to,
    t: state.t,
    ts: Date.now(),
  };
  return { status: 200, body: deltaBody(ctx, items, { deltaLink: deltaLinkFor(ctx, link) }) };
}

function* currentObjects(
  ctx: GraphApiContext,
  type: TrackedType,
  afterOrd: number,
): Generator<{ ord: number; item: Record<string, unknown> }> {
  if (type === "appRoleAssignment") {
    for (const entry of ctx.directory.assignmentsAfter(afterOrd))
      yield { ord: entry.ord, item: typed(type, assignmentJson(ctx, entry.assignment, null)) };
    return;
  }
  for (const entry of ctx.directory.activeUsersAfter(afterOrd))
    // Initial rounds leave out properties that were never set, as users delta does.
    yield { ord: entry.ord, item: typed(type, project(entry.user, USER_SPEC.defaultSelect, true)) };
}

/** The tracked types' changes end to end, addressed by one index so a skip token can resume anywhere. */
function changeList(
  ctx: GraphApiContext,
  types: readonly TrackedType[],
  from: number,
  to: number,
): { length: number; item(index: number, minimal: boolean): Record<string, unknown> | null } {
  const lists = types.map((type) => ({
    type,
    changes: cachedChanges(ctx.directory, type === "user" ? "user" : "assignment", from, to),
  }));
  return {
    length: lists.reduce((sum, list) => sum + list.changes.length, 0),
    item(index, minimal) {
      for (const list of lists) {
        if (index < list.changes.length) return changedObject(ctx, list.type, list.changes[index]!, minimal);
        index -= list.changes.length;
      }
      return null;
    },
  };
}

function changedObject(
  ctx: GraphApiContext,
  type: TrackedType,
  change: ChangeSummary,
  minimal: boolean,
): Record<string, unknown> | null {
  if (type === "user") {
    const item = changeItem(ctx, "users", change, USER_SPEC.defaultSelect, false, false, minimal);
    return item && typed(type, item);
  }
  // Assignments are made and removed, never updated: a changed one is either there or gone.
  const record = ctx.directory.getVisibleAssignment(change.id);
  return record
    ? typed(type, assignmentJson(ctx, record, null))
    : typed(type, { id: change.id, "@removed": { reason: "deleted" } });
}

function typed(type: TrackedType, item: Record<string, unknown>): Record<string, unknown> {
  return { "@odata.type": `#microsoft.graph.${type}`, ...item };
}

function deltaLinkFor(ctx: GraphApiContext, link: ObjectsDeltaLink): string {
  return `${ctx.origin}/v1.0/directoryObjects/delta?$deltatoken=${encodeToken(link)}`;
}

function deltaBody(
  ctx: GraphApiContext,
  items: Record<string, unknown>[],
  links: { nextLink?: string; deltaLink?: string },
): Record<string, unknown> {
  const body: Record<string, unknown> = { "@odata.context": contextUrl(ctx, "directoryObjects") };
  if (links.nextLink) body["@odata.nextLink"] = links.nextLink;
  if (links.deltaLink) body["@odata.deltaLink"] = links.deltaLink;
  body.value = items;
  return body;
}
