import type { GraphClient, GraphUser } from "../graph";
import { entitlementOfUser, indexAssignments } from "./assignment";
import type { ObjectMappingEngine } from "./ports";
import { toEntraUser } from "./source";
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
    }
  | { status: "unmappable"; problem: string };

/**
 * Which users the connection provisions: everyone ("All"), or those assigned to the app directly or
 * through a group they are a direct member of, as the cycle decides it (lib/sync/assignment.ts).
 */
export async function loadUserEntitlements(
  graph: GraphClient,
  scope: "All" | "AssignedOnly",
  servicePrincipalId: string | null,
): Promise<(userId: string) => boolean> {
  if (scope === "All") return () => true;
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
  return (userId) => entitlementOfUser(index, userId, groupsOfUser.get(userId) ?? []).entitled;
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
  };
}
