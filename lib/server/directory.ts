import type { GraphClient } from "../graph";

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
