import type { GraphAppRoleAssignment } from "../graph";
import type { Entitlement } from "./plan";

/** Entra's "Default Access" app role: assignments with it are excluded from provisioning (Dialpad tutorial). */
export const DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000";

export interface AssignmentIndex {
  /** Users assigned directly with a real role: userId → role ids. */
  userRoles: Map<string, Set<string>>;
  /** Users assigned only with Default Access (excluded, but worth explaining). */
  defaultAccessUsers: Set<string>;
  /** Groups assigned with a real role: groupId → role ids. Their direct members are in scope. */
  groupRoles: Map<string, Set<string>>;
  defaultAccessGroups: Set<string>;
}

export function indexAssignments(assignments: Iterable<GraphAppRoleAssignment>): AssignmentIndex {
  const index: AssignmentIndex = {
    userRoles: new Map(),
    defaultAccessUsers: new Set(),
    groupRoles: new Map(),
    defaultAccessGroups: new Set(),
  };
  for (const assignment of assignments) {
    const isGroup = (assignment.principalType ?? "").toLowerCase() === "group";
    if (assignment.appRoleId === DEFAULT_ACCESS_ROLE_ID) {
      (isGroup ? index.defaultAccessGroups : index.defaultAccessUsers).add(assignment.principalId);
      continue;
    }
    const target = isGroup ? index.groupRoles : index.userRoles;
    const roles = target.get(assignment.principalId) ?? new Set<string>();
    roles.add(assignment.appRoleId);
    target.set(assignment.principalId, roles);
  }
  return index;
}

export interface UserEntitlement {
  assigned: boolean;
  /** How: "direct", "group:<id>", or why not. */
  via: string[];
  hasRequiredRole: boolean;
  roleIds: string[];
}

/**
 * Whether a user is entitled through the app's assignments: directly with a role other than Default
 * Access, or as a direct member of an assigned group (Entra does not follow nested groups).
 */
export function userEntitlement(
  userId: string,
  index: AssignmentIndex,
  directGroupIds: Iterable<string>,
): UserEntitlement {
  const roleIds = new Set<string>(index.userRoles.get(userId) ?? []);
  const via: string[] = roleIds.size ? ["direct"] : [];
  for (const groupId of directGroupIds) {
    const groupRoles = index.groupRoles.get(groupId);
    if (!groupRoles) continue;
    via.push(`group:${groupId}`);
    for (const role of groupRoles) roleIds.add(role);
  }
  const onlyDefaultAccess = roleIds.size === 0 && index.defaultAccessUsers.has(userId);
  return {
    assigned: roleIds.size > 0 || onlyDefaultAccess,
    via: via.length ? via : onlyDefaultAccess ? ["direct (Default Access)"] : [],
    hasRequiredRole: roleIds.size > 0,
    roleIds: [...roleIds],
  };
}

/** Scope "All" (Entra's "Sync all users and groups"): every object is entitled. */
export const SYNC_ALL: Entitlement = {
  entitled: true,
  via: ["sync all"],
  explanation: "",
  defaultAccessOnly: false,
};

/**
 * The one rule for whether a user is entitled, used by cycles (index of every assignment) and by
 * on demand, Why? and replay (index of the user's own assignments): assigned with a role other than
 * Default Access, directly or through a group it is a direct member of.
 */
export function entitlementOfUser(
  index: AssignmentIndex,
  userId: string,
  directGroupIds: readonly string[],
): Entitlement {
  const result = userEntitlement(userId, index, directGroupIds);
  const entitled = result.assigned && result.hasRequiredRole;
  const defaultAccessOnly =
    !entitled &&
    (index.defaultAccessUsers.has(userId) ||
      directGroupIds.some((group) => index.defaultAccessGroups.has(group)));
  return {
    entitled,
    via: result.via,
    defaultAccessOnly,
    explanation: defaultAccessOnly
      ? "The user is assigned with Default Access only, which is excluded from provisioning"
      : "The user is not assigned to the Dialpad application",
  };
}

/** The rule for a group: assigned itself with a role other than Default Access. */
export function entitlementOfGroup(index: AssignmentIndex, groupId: string): Entitlement {
  if (index.groupRoles.has(groupId))
    return { entitled: true, via: ["direct"], explanation: "", defaultAccessOnly: false };
  const defaultAccessOnly = index.defaultAccessGroups.has(groupId);
  return {
    entitled: false,
    via: [],
    defaultAccessOnly,
    explanation: defaultAccessOnly
      ? "The group is assigned with Default Access only, which is excluded from provisioning"
      : "The group is not assigned to the Dialpad application",
  };
}
