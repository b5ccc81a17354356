import type { GraphClient } from "../graph";
import { loadAssignmentsOf } from "../sync/process-user";

const SHOWN_MEMBERS = 50;
/** Reading stops here: a picker needs a handful of names, not every member of a 100,000-member group. */
const READ_LIMIT = 5_000;

export interface DirectoryUserSummary {
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
  mail: string | null;
}

/**
 * Direct user members of a group (Entra does not follow nesting), optionally narrowed by a prefix of
 * the display name, UPN or mail, as the on-demand member picker shows them.
 */
export async function listDirectGroupUsers(
  graph: GraphClient,
  groupId: string,
  search: string | undefined,
): Promise<{ members: DirectoryUserSummary[]; total: number; complete: boolean }> {
  const needle = search?.toLowerCase() ?? "";
  const members: DirectoryUserSummary[] = [];
  let read = 0;
  let total = 0;
  for await (const page of graph.listGroupUserMembers(groupId, [
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
  ])) {
    for (const user of page.value) {
      read += 1;
      const summary = {
        id: user.id,
        displayName: (user.displayName as string | null | undefined) ?? null,
        userPrincipalName: (user.userPrincipalName as string | null | undefined) ?? null,
        mail: (user.mail as string | null | undefined) ?? null,
      };
      const matches =
        !needle ||
        [summary.displayName, summary.userPrincipalName, summary.mail].some((value) =>
          value?.toLowerCase().startsWith(needle),
        );
      if (!matches) continue;
      total += 1;
      if (members.length < SHOWN_MEMBERS) members.push(summary);
    }
    if (read >= READ_LIMIT) return { members, total, complete: false };
  }
  return { members, total, complete: true };
}

export interface DirectoryUserMatch extends DirectoryUserSummary {
  /**
   * Assigned to the app with a role other than Default Access, directly or through a group it is a direct
   * member of, as a cycle decides it. null when scope is "All" (everyone is in scope, nothing was checked).
   */
  assigned: boolean | null;
}

const SEARCH_TOP = 25;
/** Assignment checks in flight at once, so one search does not burst 25 requests at Graph. */
const ASSIGNMENT_CHECKS_AT_ONCE = 5;

/**
 * The on-demand user picker's search. With scope "AssignedOnly" it also tells who is assigned, with one
 * request per listed user (Graph returns a user's direct and group assignments for one app together), so
 * the admin picks someone in scope without a trial run.
 */
export async function searchDirectoryUsers(
  graph: GraphClient,
  app: { scope: string; servicePrincipalId: string | null },
  search: string,
): Promise<DirectoryUserMatch[]> {
  const users = await graph.searchUsers(search, {
    select: ["id", "displayName", "userPrincipalName", "mail"],
    top: SEARCH_TOP,
  });
  const summaries = users.map((user) => ({
    id: user.id,
    displayName: (user.displayName as string | null | undefined) ?? null,
    userPrincipalName: (user.userPrincipalName as string | null | undefined) ?? null,
    mail: (user.mail as string | null | undefined) ?? null,
  }));
  const servicePrincipalId = app.servicePrincipalId;
  if (app.scope === "All" || !servicePrincipalId)
    return summaries.map((user) => ({ ...user, assigned: null }));
  const assigned = new Map<string, boolean>();
  for (let start = 0; start < summaries.length; start += ASSIGNMENT_CHECKS_AT_ONCE) {
    await Promise.all(
      summaries.slice(start, start + ASSIGNMENT_CHECKS_AT_ONCE).map(async (user) => {
        const index = await loadAssignmentsOf(
          { scope: "AssignedOnly", servicePrincipalId, graph },
          { type: "User", id: user.id },
        );
        assigned.set(user.id, Boolean(index && (index.userRoles.size > 0 || index.groupRoles.size > 0)));
      }),
    );
  }
  return summaries.map((user) => ({ ...user, assigned: assigned.get(user.id) ?? false }));
}
