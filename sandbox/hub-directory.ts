import type { DialpadCompany } from "./dialpad/company";
import { DEFAULT_ACCESS_ROLE_ID, type Directory } from "./graph/directory";

/** What the hub shows of the emulated tenant and company: who is assigned to Dialpad and who got there. */
export interface DirectoryView {
  entra: { users: number; disabledUsers: number; deletedUsers: number; groups: number; assignments: number };
  dialpad: { users: number; suspendedUsers: number; groups: number };
  assigned: {
    type: "User" | "Group";
    name: string;
    /** The UPN for a user; the member count for a group. */
    detail: string;
    role: string;
    inDialpad: boolean;
  }[];
  groups: { name: string; members: number; assigned: boolean; inDialpad: boolean }[];
}

export function directoryView(directory: Directory, company: DialpadCompany): DirectoryView {
  const entra = directory.summary();
  const dialpad = company.summary();
  const dialpadGroupNames = new Set([...company.groups.values()].map((g) => g.displayName.toLowerCase()));
  const roleNames = new Map(directory.servicePrincipal.appRoles.map((role) => [role.id, role.displayName]));
  roleNames.set(DEFAULT_ACCESS_ROLE_ID, "Default Access");

  const assignedIds = new Set<string>();
  const assigned: DirectoryView["assigned"] = directory.listAssignments().map((assignment) => {
    assignedIds.add(assignment.principalId);
    const role = roleNames.get(assignment.appRoleId) ?? assignment.appRoleId;
    if (assignment.principalType === "User") {
      const user = directory.getUser(assignment.principalId);
      const upn = user?.userPrincipalName ?? assignment.principalId;
      return {
        type: "User",
        name: user?.displayName ?? upn,
        detail: upn,
        role,
        inDialpad: company.findUserByUserName(upn) !== undefined,
      };
    }
    const group = directory.getGroup(assignment.principalId);
    const name = group?.displayName ?? assignment.principalId;
    const members = group ? directory.listMembers(group.id).length : 0;
    return {
      type: "Group",
      name,
      detail: `${members} member${members === 1 ? "" : "s"}`,
      role,
      inDialpad: dialpadGroupNames.has(name.toLowerCase()),
    };
  });

  return {
    entra: {
      users: entra.users,
      disabledUsers: entra.disabledUsers,
      deletedUsers: entra.deletedUsers,
      groups: entra.groups,
      assignments: entra.appRoleAssignments,
    },
    dialpad: { users: dialpad.users, suspendedUsers: dialpad.suspendedUsers, groups: dialpad.groups },
    assigned,
    groups: directory.listGroups().map((group) => ({
      name: group.displayName,
      members: directory.listMembers(group.id).length,
      assigned: assignedIds.has(group.id.toLowerCase()),
      inDialpad: dialpadGroupNames.has(group.displayName.toLowerCase()),
    })),
  };
}
