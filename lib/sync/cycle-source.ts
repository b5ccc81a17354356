import { GraphError, type GraphGroup, type GraphUser } from "../graph";
import {
  entitlementOfGroup,
  entitlementOfUser,
  indexAssignments,
  SYNC_ALL,
  type AssignmentIndex,
} from "./assignment";
import type { CycleStore, EscrowRecord, HeldChangeRecord } from "./cycle-ports";
import type { CycleEngineContext } from "./cycle";
import { asQuarantine, graphOrQuarantine, NO_ENTITLEMENT, toCandidate } from "./decide";
import type { CycleType, Entitlement, ObjectType, SourceCandidate } from "./plan";
import type { ObjectLinkRecord } from "./ports";

/**
 * What a cycle reads from Microsoft Entra ID, as a stream of candidate pages: the directory (or its
 * delta) page by page as Graph returns it, then what a delta cannot show (assignment changes, due
 * escrows, held deletions, linked objects that are gone). No page holds more than Graph's page or
 * `pageSize` candidates, and links are read for the page's objects only, so a cycle's memory does not
 * grow with the directory beyond one id per object read (to keep an object from being decided twice).
 */

export interface EntitlementIndex {
  user(id: string): Entitlement;
  group(id: string): Entitlement;
  /** Users entitled through assignments (AssignedOnly); null for scope All. */
  entitledUserIds: Set<string> | null;
  entitledGroupIds: Set<string> | null;
  /** Direct user members of the groups read for entitlement. */
  membersOf: Map<string, string[]>;
}

export interface SourcePage {
  objects: { candidate: SourceCandidate; link: ObjectLinkRecord | null }[];
  /**
   * Objects Graph listed again later in the same round (its documented behaviour for changes made
   * during the round): the later state wins, so the caller withdraws the earlier decision first.
   */
  repeated?: true;
}

/** What the read of one object type found, filled in while the pages are consumed. */
export interface SourceReadStats {
  /** Candidates handed out (Entra's countImported). */
  candidates: number;
  /** Objects read from a delta link (Entra's countImportedDeltas). */
  deltaObjects: number;
  /** Objects a full read found present (not removed); null when the read was a delta. */
  presentObjects: number | null;
  deltaLink: string | null;
  /** The read turned into a full one (the delta link was refused). */
  cycleType: CycleType;
}

const PAGE_SIZE = 100;
const LINKS_PER_QUERY = 1_000;

export async function loadEntitlements(context: CycleEngineContext): Promise<EntitlementIndex> {
  const membersOf = new Map<string, string[]>();
  if (context.scope === "All") {
    return {
      user: () => SYNC_ALL,
      group: () => SYNC_ALL,
      entitledUserIds: null,
      entitledGroupIds: null,
      membersOf,
    };
  }
  if (!context.servicePrincipalId) {
    throw new Error(
      "The Dialpad enterprise application (service principal) is not configured, so assignments cannot be read.",
    );
  }
  const assignments = [];
  for await (const page of context.graph.listAppRoleAssignedTo(context.servicePrincipalId))
    assignments.push(...page.value);
  const index: AssignmentIndex = indexAssignments(assignments);
  const userGroups = new Map<string, string[]>();
  // Entra follows direct membership only: the members of an assigned group, never of groups nested in it.
  for (const groupId of [...index.groupRoles.keys(), ...index.defaultAccessGroups]) {
    const members = await directUserMembers(context, groupId);
    for (const member of members) userGroups.set(member, [...(userGroups.get(member) ?? []), groupId]);
    membersOf.set(groupId, members);
  }
  const entitledUserIds = new Set<string>(index.userRoles.keys());
  for (const groupId of index.groupRoles.keys())
    for (const member of membersOf.get(groupId) ?? []) entitledUserIds.add(member);
  return {
    user: (id) => entitlementOfUser(index, id, userGroups.get(id) ?? []),
    group: (id) => entitlementOfGroup(index, id),
    entitledUserIds,
    entitledGroupIds: new Set(index.groupRoles.keys()),
    membersOf,
  };
}

export async function directUserMembers(context: CycleEngineContext, groupId: string): Promise<string[]> {
  const members: string[] = [];
  for await (const page of context.graph.listGroupMembers(groupId, ["id"])) {
    for (const member of page.value)
      if (
        String(member["@odata.type"] ?? "#microsoft.graph.user")
          .toLowerCase()
          .endsWith("user")
      )
        members.push(member.id);
  }
  return members;
}

/** The direct user members of the groups whose members a cycle provisions. */
export async function membershipInput(
  context: CycleEngineContext,
  groups: Map<string, string | null>,
  entitlements: EntitlementIndex,
) {
  const input = [];
  for (const [sourceId, displayName] of groups) {
    let members = entitlements.membersOf.get(sourceId);
    if (!members) members = await graphOrQuarantine(() => directUserMembers(context, sourceId));
    input.push({ sourceId, displayName, memberIds: members });
  }
  return input;
}

/**
 * The candidates of one object type, page by page. `seen` is shared with the caller: an object is
 * handed out once (a second listing in the same delta round comes back in a `repeated` page).
 */
export async function* readSourcePages(input: {
  context: CycleEngineContext;
  objectType: ObjectType;
  cycleType: CycleType;
  deltaLink: string | null;
  select: string[];
  entitlements: EntitlementIndex;
  escrows: readonly EscrowRecord[];
  held: readonly HeldChangeRecord[];
  isDue: (escrow: EscrowRecord) => boolean;
  seen: Map<string, unknown>;
  stats: SourceReadStats;
}): AsyncGenerator<SourcePage> {
  const { context, objectType, entitlements, seen, stats, select } = input;
  const store: CycleStore = context.store;
  const entitlementOf = (id: string) =>
    objectType === "User" ? entitlements.user(id) : entitlements.group(id);
  const withLinks = async (
    objects: (GraphUser | GraphGroup)[],
    origin: SourceCandidate["origin"],
  ): Promise<SourcePage["objects"]> => {
    const links = new Map(
      (
        await store.loadLinksFor(
          objectType,
          objects.map((object) => object.id),
        )
      ).map((link) => [link.sourceId, link]),
    );
    return objects.map((object) => {
      const link = links.get(object.id) ?? null;
      return { candidate: toCandidate(objectType, object, origin, entitlementOf(object.id), link), link };
    });
  };

  // ── Graph's pages ──────────────────────────────────────────────────────────────────────────────────
  const repeated = new Map<string, GraphUser | GraphGroup>();
  const read = async function* (deltaLink: string | null): AsyncGenerator<SourcePage> {
    const incremental = stats.cycleType === "incremental" && deltaLink !== null;
    const pages =
      objectType === "User"
        ? context.graph.usersDelta(incremental ? { deltaLink: deltaLink! } : { select })
        : context.graph.groupsDelta(incremental ? { deltaLink: deltaLink! } : { select });
    for await (const page of pages as AsyncIterable<{
      value: (GraphUser | GraphGroup)[];
      deltaLink?: string;
    }>) {
      const fresh = new Map<string, GraphUser | GraphGroup>();
      for (const object of page.value) {
        // Graph may list an object twice in one round; the later entry is the newer state.
        if (seen.has(object.id) && !fresh.has(object.id)) repeated.set(object.id, object);
        else fresh.set(object.id, object);
      }
      for (const id of fresh.keys()) seen.set(id, null);
      if (incremental) stats.deltaObjects += fresh.size;
      else
        stats.presentObjects =
          (stats.presentObjects ?? 0) + [...fresh.values()].filter((o) => !o["@removed"]).length;
      if (page.deltaLink) stats.deltaLink = page.deltaLink;
      if (fresh.size === 0) continue;
      const objects = await withLinks([...fresh.values()], incremental ? "delta" : "import");
      stats.candidates += objects.length;
      yield { objects };
    }
  };
  if (stats.cycleType === "incremental" && input.deltaLink !== null) stats.presentObjects = null;
  try {
    yield* guardGraph(read(input.deltaLink));
  } catch (error) {
    // An expired or unknown delta token: Graph wants a full resync, which is an initial cycle.
    if (!(error instanceof GraphError && (error.resyncRequired || error.code === "syncStateNotFound")))
      throw error;
    context.log?.warn({ objectType, code: error.code }, "delta link rejected; reading everything again");
    stats.cycleType = "initial";
    stats.presentObjects = 0;
    yield* guardGraph(read(null));
  }
  if (repeated.size > 0) {
    const objects = await withLinks(
      [...repeated.values()],
      stats.cycleType === "incremental" ? "delta" : "import",
    );
    yield { objects, repeated: true };
  }
  const incremental = stats.cycleType === "incremental";

  // ── What a delta cannot show ──────────────────────────────────────────────────────────────────────
  const pending: SourcePage["objects"] = [];
  const fetchOne = async (
    id: string,
    origin: SourceCandidate["origin"],
    removedIfMissing?: "changed" | "deleted",
  ) => {
    if (seen.has(id)) return;
    seen.set(id, null);
    const [link] = await store.loadLinksFor(objectType, [id]);
    try {
      const object = await graphOrQuarantine(() =>
        objectType === "User" ? context.graph.getUser(id, select) : context.graph.getGroup(id, select),
      );
      pending.push({
        candidate: toCandidate(objectType, object, origin, entitlementOf(id), link ?? null),
        link: link ?? null,
      });
    } catch (error) {
      if (!(error instanceof GraphError && error.status === 404)) throw error;
      // Gone from the directory (deleted items are not readable by id): a linked object is deprovisioned.
      if (link || removedIfMissing)
        pending.push({
          candidate: toCandidate(
            objectType,
            { id, "@removed": { reason: removedIfMissing ?? "changed" } },
            origin,
            NO_ENTITLEMENT,
            link ?? null,
          ),
          link: link ?? null,
        });
    }
  };
  const drain = function* (all = false): Generator<SourcePage> {
    while (pending.length >= PAGE_SIZE || (all && pending.length > 0)) {
      const objects = pending.splice(0, PAGE_SIZE);
      stats.candidates += objects.length;
      yield { objects };
    }
  };

  const blocked = new Set<string>();
  for (const escrow of input.escrows) {
    if (escrow.objectType !== objectType || escrow.kind !== "object") continue;
    if (input.isDue(escrow)) await fetchOne(escrow.sourceId, "escrow");
    else blocked.add(escrow.sourceId);
    yield* drain();
  }
  for (const change of input.held) {
    if (change.objectType !== objectType) continue;
    await fetchOne(change.sourceId, "held", change.action === "Delete" ? "deleted" : "changed");
    yield* drain();
  }
  const entitled = objectType === "User" ? entitlements.entitledUserIds : entitlements.entitledGroupIds;
  if (incremental && entitled) {
    const unseen = [...entitled].filter((id) => !seen.has(id) && !blocked.has(id));
    for (let offset = 0; offset < unseen.length; offset += LINKS_PER_QUERY) {
      const ids = unseen.slice(offset, offset + LINKS_PER_QUERY);
      const links = new Map((await store.loadLinksFor(objectType, ids)).map((link) => [link.sourceId, link]));
      for (const id of ids) {
        const link = links.get(id);
        if (!link || link.exportedHash === null) await fetchOne(id, "assignment");
        yield* drain();
      }
    }
  }
  // Linked objects that lost their entitlement, or (initial cycle) are no longer in the directory at all.
  // An incremental cycle without an entitlement list (scope All) has nothing to find here: its linked
  // objects stay entitled, and their changes came with the delta.
  const sweep = !(incremental && !entitled);
  for (let after: string | null = null; sweep;) {
    const links = await store.pageLinks(objectType, after, LINKS_PER_QUERY);
    if (links.length === 0) break;
    after = links[links.length - 1]!.sourceId;
    for (const link of links) {
      if (seen.has(link.sourceId)) continue;
      if (!link.active && link.exportedHash === null) continue;
      const stillEntitled = entitled ? entitled.has(link.sourceId) : true;
      if (stillEntitled && incremental) continue;
      seen.set(link.sourceId, null);
      pending.push({
        candidate: {
          objectType,
          sourceId: link.sourceId,
          displayName: link.displayName,
          source: null,
          ...(stillEntitled ? { removed: "changed" as const } : {}),
          accountDisabled: false,
          entitlement: stillEntitled
            ? entitlementOf(link.sourceId)
            : { ...entitlementOf(link.sourceId), entitled: false },
          origin: "link",
        },
        link,
      });
    }
    yield* drain();
  }
  yield* drain(true);
}

/** Graph errors that mean the credentials or tenant are unusable quarantine; the rest pass through. */
async function* guardGraph<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await pages.next();
    } catch (error) {
      throw asQuarantine(error) ?? error;
    }
    if (next.done) return;
    yield next.value;
  }
}
