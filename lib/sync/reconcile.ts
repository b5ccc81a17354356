import type { GraphClient, GraphGroup, GraphUser } from "../graph";
import { entitlementOfGroup, entitlementOfUser, indexAssignments } from "./assignment";
import type { ObjectMappingEngine } from "./ports";
import { toEntraGroup, toEntraUser } from "./source";
import { resourceActive } from "./target-index";

/**
 * The reconcile report's view of one linked user: what the mappings want in Dialpad against what Dialpad
 * holds. Pure apart from Graph reads of the assignments; the store around it (lib/server/reconcile-run.ts)
 * pages through Graph and Dialpad and keeps the findings in PostgreSQL.
 */

export type ReconcileCategory = "orphan" | "drifted" | "missing" | "suspendedInDialpad" | "activeInDialpad";
export const RECONCILE_CATEGORIES: readonly ReconcileCategory[] = [
  "orphan",
  "drifted",
  "missing",
  "suspendedInDialpad",
  "activeInDialpad",
];
export type OrphanReason = "neverLinked" | "linkLost" | "collides";
export const ORPHAN_REASONS: readonly OrphanReason[] = ["neverLinked", "linkLost", "collides"];

export interface AttributeDrift {
  attribute: string;
  dialpadValue: unknown;
  desiredValue: unknown;
}

export type LinkedUserAssessment =
  | { status: "missing" }
  | {
      status: "present";
      drift: AttributeDrift[];
      /** Whether Entra wants the user active: null when it leaves the account alone (skipped deletions). */
      desiredActive: boolean | null;
      dialpadActive: boolean;
      /** Why Entra does not want the user active, for the report. */
      inactiveBecause: string | null;
      /** Whether a cycle keeps the user in the Dialpad groups of its Entra groups (assigned and in scope). */
      keepsMemberships: boolean;
    }
  | { status: "unmappable"; problem: string };

export interface Entitlements {
  user(userId: string): boolean;
  group(groupId: string): boolean;
}

/**
 * Which users and groups the connection provisions: everyone ("All"), or those assigned to the app
 * (users directly or through a group they are a direct member of), as the cycle decides it
 * (lib/sync/assignment.ts).
 */
export async function loadEntitlements(
  graph: GraphClient,
  scope: "All" | "AssignedOnly",
  servicePrincipalId: string | null,
): Promise<Entitlements> {
  if (scope === "All") return { user: () => true, group: () => true };
  if (!servicePrincipalId)
    throw new Error("The Dialpad enterprise application (service principal) is not configured.");
  const assignments = [];
  for await (const page of graph.listAppRoleAssignedTo(servicePrincipalId)) assignments.push(...page.value);
  const index = indexAssignments(assignments);
  const groupsOfUser = new Map<string, string[]>();
  for (const groupId of [...index.groupRoles.keys(), ...index.defaultAccessGroups]) {
    for await (const page of graph.listGroupMembers(groupId, ["id"])) {
      for (const member of page.value) {
        const type = String(member["@odata.type"] ?? "#microsoft.graph.user").toLowerCase();
        if (!type.endsWith("user")) continue;
        groupsOfUser.set(member.id, [...(groupsOfUser.get(member.id) ?? []), groupId]);
      }
    }
  }
  return {
    user: (userId) => entitlementOfUser(index, userId, groupsOfUser.get(userId) ?? []).entitled,
    group: (groupId) => entitlementOfGroup(index, groupId).entitled,
  };
}

const isActiveAttribute = (name: string): boolean => name.trim().toLowerCase() === "active";

/** Compares one linked Entra user's desired state with its Dialpad user as listed (null: not listed). */
export function assessLinkedUser(input: {
  user: GraphUser;
  entitled: boolean;
  mapping: ObjectMappingEngine;
  current: (Readonly<Record<string, unknown>> & { id: string }) | null;
  skipOutOfScopeDeletions: boolean;
}): LinkedUserAssessment {
  const { user, mapping, current } = input;
  if (!current) return { status: "missing" };
  const disabled = user.accountEnabled === false;
  const inScope = mapping.scope(toEntraUser(user, { isSoftDeleted: disabled })).inScope;
  const leftScope = !input.entitled || !inScope;
  const desiredActive = disabled ? false : leftScope ? (input.skipOutOfScopeDeletions ? null : false) : true;
  const inactiveBecause = disabled
    ? "the Entra account is disabled"
    : !input.entitled
      ? "the Entra user is not assigned to the app"
      : !inScope
        ? "the Entra user is outside the scoping filter"
        : null;
  const source = toEntraUser(user, { isSoftDeleted: desiredActive === false });
  let modified;
  try {
    modified = mapping.patch(source, current).modified;
  } catch (error) {
    return { status: "unmappable", problem: error instanceof Error ? error.message : String(error) };
  }
  return {
    status: "present",
    drift: modified
      .filter((property) => !isActiveAttribute(property.displayName))
      .map((property) => ({
        attribute: property.displayName,
        dialpadValue: property.oldValue ?? null,
        desiredValue: property.newValue ?? null,
      })),
    desiredActive,
    dialpadActive: resourceActive("User", current) ?? true,
    inactiveBecause,
    keepsMemberships: !leftScope,
  };
}

const isNameOrMembers = (name: string): boolean =>
  ["displayname", "members"].includes(name.trim().toLowerCase());

/**
 * A linked group's attributes against its Dialpad group as listed: what a cycle's PATCH would change,
 * apart from displayName (Dialpad refuses group renames, so a cycle never sends one) and members
 * (compared one by one with `compareGroupMembers`). Null when a cycle would not keep the group (not
 * assigned, or outside the scoping filter): it deletes or leaves it, and that is not drift.
 */
export function assessLinkedGroup(input: {
  group: GraphGroup;
  entitled: boolean;
  mapping: ObjectMappingEngine;
  current: Readonly<Record<string, unknown>> & { id: string };
}): { drift: AttributeDrift[] } | { problem: string } | null {
  const source = toEntraGroup(input.group);
  if (!input.entitled || !input.mapping.scope(source).inScope) return null;
  try {
    const { modified } = input.mapping.patch(source, input.current);
    return {
      drift: modified
        .filter((property) => !isNameOrMembers(property.displayName))
        .map((property) => ({
          attribute: property.displayName,
          dialpadValue: property.oldValue ?? null,
          desiredValue: property.newValue ?? null,
        })),
    };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

export interface MemberDrift {
  /** The member's Dialpad user. */
  targetId: string;
  /** Its Entra user when a link points to it; null for a Dialpad user nobody manages. */
  sourceId: string | null;
  /** true: a member in Entra that Dialpad's group lacks; false: in Dialpad's group only. */
  missing: boolean;
}

/**
 * One group's members as a cycle wants them against Dialpad's: `desired` maps the Dialpad user of each
 * direct Entra member that a cycle keeps in groups (linked, assigned, in scope) to its Entra user;
 * `managed` maps every linked Dialpad user among `dialpad` to its Entra user. Sorted, so a report is the
 * same however the pages came.
 */
export function compareGroupMembers(input: {
  desired: ReadonlyMap<string, string>;
  dialpad: ReadonlySet<string>;
  managed: ReadonlyMap<string, string>;
}): MemberDrift[] {
  const drift: MemberDrift[] = [];
  for (const [targetId, sourceId] of input.desired)
    if (!input.dialpad.has(targetId)) drift.push({ targetId, sourceId, missing: true });
  for (const targetId of input.dialpad)
    if (!input.desired.has(targetId))
      drift.push({ targetId, sourceId: input.managed.get(targetId) ?? null, missing: false });
  return drift.sort((a, b) => Number(b.missing) - Number(a.missing) || a.targetId.localeCompare(b.targetId));
}
