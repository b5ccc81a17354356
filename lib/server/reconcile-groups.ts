import type { Prisma, PrismaClient } from "../db/generated/client";
import type { GraphClient } from "../graph";
import { GraphError } from "../graph/errors";
import type { JobLease } from "../jobs/lease";
import type { ScimClient } from "../scim";
import { isScimError } from "../scim/errors";
import { mapWithConcurrency } from "../sync/concurrency";
import type { ObjectMappingEngine } from "../sync/ports";
import { assessLinkedGroup, compareGroupMembers, type MemberDrift } from "../sync/reconcile";
import { graphGroupSelectFor, toEntraGroup } from "../sync/source";
import { normaliseCandidate } from "../sync/target-index";

/**
 * Drift of the groups a connection provisions, for the reconcile report: each linked group's attributes
 * (what a cycle's PATCH would change) and its members, Entra's direct members that a cycle keeps in
 * groups against the group's members in Dialpad. Groups are read a page of links at a time and two at
 * once, so memory holds two groups' member lists, never the directory.
 *
 * Dialpad's members are read with one GET per group rather than listed with the groups: a listing page
 * carries whole member lists, and one page of 20 groups holding 196,000 members took a worker past
 * 400 MiB (`npm run bench`, scenario 9).
 */

/** The ReconcileSourceKey attribute naming the Entra users a cycle keeps in their groups' Dialpad groups. */
export const IN_GROUPS = "inGroups";
/**
 * Groups' matching keys are recorded under this prefix (e.g. "group:displayName"), so an orphan user is
 * never said to collide with a group whose name equals a user's matching value, or the reverse.
 */
export const GROUP_KEY_PREFIX = "group:";

const LINKS_PER_PAGE = 100;
const GROUPS_AT_ONCE = 2;
const IDS_PER_QUERY = 1_000;

type FindingRow = Prisma.ReconcileFindingCreateManyInput;

export interface GroupDriftInput {
  runId: string;
  connectionId: string;
  userSnapshotId: string;
  groupSnapshotId: string;
  graph: GraphClient;
  scim: ScimClient;
  /** The group mapping without reference attributes (members are compared here, one by one). */
  mapping: ObjectMappingEngine;
  entitled: (groupId: string) => boolean;
  /** Whether the group mapping maps members; otherwise only attributes are compared. */
  compareMembers: boolean;
  lease?: JobLease;
}

/**
 * Records every Entra group's matching keys (a page of 999 at a time), so an orphan Dialpad group whose
 * displayName a cycle would match is reported as colliding. Returns how many groups were read.
 */
export async function recordGroupKeys(
  db: PrismaClient,
  input: Pick<GroupDriftInput, "runId" | "connectionId" | "graph" | "mapping" | "lease">,
): Promise<number> {
  let read = 0;
  const select = graphGroupSelectFor(input.mapping.sourceAttributes());
  for await (const page of input.graph.listGroups({ select, pageSize: 999 })) {
    input.lease?.assertHeld();
    read += page.value.length;
    const links = await db.objectLink.findMany({
      where: {
        connectionId: input.connectionId,
        objectType: "Group",
        sourceId: { in: page.value.map((group) => group.id) },
      },
      select: { sourceId: true, targetId: true },
    });
    const linkOf = new Map(links.map((link) => [link.sourceId, link.targetId]));
    const keys: Prisma.ReconcileSourceKeyCreateManyInput[] = [];
    for (const group of page.value)
      for (const candidate of input.mapping.matching(toEntraGroup(group))) {
        const key = normaliseCandidate("Group", candidate);
        if (!key) continue;
        keys.push({
          runId: input.runId,
          attribute: `${GROUP_KEY_PREFIX}${key.attribute}`,
          value: key.value,
          sourceId: group.id,
          sourceName: typeof group.displayName === "string" ? group.displayName : null,
          linkedTargetId: linkOf.get(group.id) ?? null,
        });
      }
    if (keys.length) await db.reconcileSourceKey.createMany({ data: keys, skipDuplicates: true });
  }
  return read;
}

/** Writes the drifted-group findings; returns how many linked groups were compared. */
export async function reportGroupDrift(db: PrismaClient, input: GroupDriftInput): Promise<number> {
  const select = graphGroupSelectFor(input.mapping.sourceAttributes());
  let compared = 0;
  let after: string | null = null;
  for (;;) {
    input.lease?.assertHeld();
    const links: { sourceId: string; targetId: string }[] = await db.objectLink.findMany({
      where: {
        connectionId: input.connectionId,
        objectType: "Group",
        ...(after === null ? {} : { sourceId: { gt: after } }),
      },
      orderBy: { sourceId: "asc" },
      take: LINKS_PER_PAGE,
      select: { sourceId: true, targetId: true },
    });
    if (links.length === 0) return compared;
    after = links[links.length - 1]!.sourceId;
    // A group Dialpad no longer lists is reported as missing, not compared.
    const entries = await db.targetSnapshotEntry.findMany({
      where: {
        snapshotId: input.groupSnapshotId,
        resourceType: "Group",
        targetId: { in: links.map((link) => link.targetId) },
      },
      select: { targetId: true, resource: true },
    });
    const entryOf = new Map(entries.map((entry) => [entry.targetId, entry.resource]));
    const findings = (
      await mapWithConcurrency(links, GROUPS_AT_ONCE, async (link) => {
        const current = entryOf.get(link.targetId) as (Record<string, unknown> & { id: string }) | undefined;
        if (!current) return [];
        compared += 1;
        return compareGroup(db, input, { ...link, current }, select);
      })
    ).flat();
    if (findings.length) await db.reconcileFinding.createMany({ data: findings });
  }
}

async function compareGroup(
  db: PrismaClient,
  input: GroupDriftInput,
  link: { sourceId: string; targetId: string; current: Record<string, unknown> & { id: string } },
  select: string[],
): Promise<FindingRow[]> {
  let group;
  try {
    group = await input.graph.getGroup(link.sourceId, select);
  } catch (error) {
    // Deleted in Entra: the next cycle deletes or leaves the Dialpad group; nothing to compare.
    if (error instanceof GraphError && error.status === 404) return [];
    throw error;
  }
  const assessment = assessLinkedGroup({
    group,
    entitled: input.entitled(group.id),
    mapping: input.mapping,
    current: link.current,
  });
  if (!assessment) return [];
  const base = {
    runId: input.runId,
    category: "drifted",
    objectType: "Group",
    targetId: link.targetId,
    targetName: typeof link.current.displayName === "string" ? link.current.displayName : null,
    sourceId: group.id,
    sourceName: typeof group.displayName === "string" ? group.displayName : null,
  } satisfies FindingRow;
  if ("problem" in assessment) return [{ ...base, attribute: "(mapping)", detail: assessment.problem }];
  const rows: FindingRow[] = assessment.drift.map((drift) => ({
    ...base,
    attribute: drift.attribute,
    dialpadValue: drift.dialpadValue as Prisma.InputJsonValue,
    desiredValue: drift.desiredValue as Prisma.InputJsonValue,
  }));
  if (!input.compareMembers) return rows;
  const members = await memberDrift(db, input, link.sourceId, link.targetId);
  const names = await userNames(
    db,
    input.userSnapshotId,
    members.map((member) => member.targetId),
  );
  for (const member of members) {
    const name = names.get(member.targetId) ?? member.targetId;
    rows.push({
      ...base,
      attribute: "members",
      memberTargetId: member.targetId,
      memberSourceId: member.sourceId,
      // The other side stays NULL: the member is absent there.
      ...(member.missing ? { desiredValue: name } : { dialpadValue: name }),
      detail: member.missing
        ? `${name} is a member of the Entra group, but not of the Dialpad group`
        : member.sourceId
          ? `${name} is in the Dialpad group, but its Entra user is not a member of the Entra group (or is not assigned or in scope any more)`
          : `${name} is in the Dialpad group, and no Entra user is linked to it (added in Dialpad by hand): re-apply leaves it; remove it in Dialpad, or suspend the orphan`,
    });
  }
  return rows;
}

async function memberDrift(
  db: PrismaClient,
  input: GroupDriftInput,
  groupSourceId: string,
  groupTargetId: string,
): Promise<MemberDrift[]> {
  const entraMembers: string[] = [];
  for await (const page of input.graph.listGroupMembers(groupSourceId, ["id"]))
    for (const member of page.value) {
      const type = String(member["@odata.type"] ?? "#microsoft.graph.user").toLowerCase();
      if (type.endsWith("user")) entraMembers.push(member.id);
    }
  const desired = new Map<string, string>();
  for (let offset = 0; offset < entraMembers.length; offset += IDS_PER_QUERY) {
    const keys = await db.reconcileSourceKey.findMany({
      where: {
        runId: input.runId,
        attribute: IN_GROUPS,
        value: { in: entraMembers.slice(offset, offset + IDS_PER_QUERY) },
      },
      select: { sourceId: true, linkedTargetId: true },
    });
    for (const key of keys) if (key.linkedTargetId) desired.set(key.linkedTargetId, key.sourceId);
  }
  let dialpadGroup;
  try {
    dialpadGroup = await input.scim.getGroup(groupTargetId, { excludeMembers: false });
  } catch (error) {
    // Deleted in Dialpad since the listing: the next report names it missing.
    if (isScimError(error) && error.status === 404) return [];
    throw error;
  }
  const dialpad = new Set((dialpadGroup.members ?? []).map((member) => member.value));
  const managed = new Map<string, string>();
  const unexpected = [...dialpad].filter((targetId) => !desired.has(targetId));
  for (let offset = 0; offset < unexpected.length; offset += IDS_PER_QUERY) {
    const links = await db.objectLink.findMany({
      where: {
        connectionId: input.connectionId,
        objectType: "User",
        targetId: { in: unexpected.slice(offset, offset + IDS_PER_QUERY) },
      },
      select: { sourceId: true, targetId: true },
    });
    for (const link of links) managed.set(link.targetId, link.sourceId);
  }
  return compareGroupMembers({ desired, dialpad, managed });
}

async function userNames(
  db: PrismaClient,
  snapshotId: string,
  targetIds: readonly string[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let offset = 0; offset < targetIds.length; offset += IDS_PER_QUERY) {
    const entries = await db.targetSnapshotEntry.findMany({
      where: {
        snapshotId,
        resourceType: "User",
        targetId: { in: targetIds.slice(offset, offset + IDS_PER_QUERY) },
      },
      select: { targetId: true, resource: true },
    });
    for (const entry of entries) {
      const userName = (entry.resource as { userName?: unknown }).userName;
      if (typeof userName === "string") names.set(entry.targetId, userName);
    }
  }
  return names;
}
