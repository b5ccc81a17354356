import { DIALPAD_USER_ROLE_ID, type Directory } from "./graph/directory";

/**
 * The hub's "Change Entra ID": what an Entra admin does to a user, made in the emulated directory, so a
 * continuous connection can be watched picking it up and Dialpad following within seconds.
 */

export const ENTRA_CHANGES = {
  title: "Give a new job title",
  disable: "Block sign-in (accountEnabled = false)",
  enable: "Allow sign-in again",
  unassign: "Unassign from the Dialpad app",
  assign: "Assign to the Dialpad app (User role)",
} as const;
export type EntraChange = keyof typeof ENTRA_CHANGES;

const TITLES = ["Account Executive", "Support Engineer", "Office Manager", "Product Designer", "Team Lead"];

/** Applies one change; returns what the hub lists, or throws a message for the admin. */
export function changeEntraUser(
  directory: Directory,
  userId: string,
  change: string,
  now = new Date(),
): string {
  const user = directory.getUser(userId);
  if (!user) throw new Error("That user is not in the directory (any more).");
  const time = now.toISOString().slice(11, 19);
  const who = `${user.displayName} (${user.userPrincipalName})`;
  switch (change as EntraChange) {
    case "title": {
      const jobTitle = TITLES[(TITLES.indexOf(user.jobTitle ?? "") + 1) % TITLES.length]!;
      directory.updateUser(user.id, { jobTitle });
      return `${time} UTC: ${who} is now "${jobTitle}"`;
    }
    case "disable":
      directory.updateUser(user.id, { accountEnabled: false });
      return `${time} UTC: ${who} can no longer sign in`;
    case "enable":
      directory.updateUser(user.id, { accountEnabled: true });
      return `${time} UTC: ${who} can sign in again`;
    case "unassign":
      if (directory.assignmentsOf(user.id).length === 0)
        throw new Error(
          `${who} is not assigned directly (perhaps through a group), so there is nothing to unassign.`,
        );
      directory.unassign(user.id);
      return `${time} UTC: ${who} was unassigned from Dialpad`;
    case "assign":
      if (directory.assignmentsOf(user.id).length > 0) throw new Error(`${who} is assigned already.`);
      directory.assign(user.id, DIALPAD_USER_ROLE_ID);
      return `${time} UTC: ${who} was assigned to Dialpad`;
    default:
      throw new Error("Choose one of the changes the form offers.");
  }
}

/** The users the form offers: assigned ones first (what a change is most often about), then a few others. */
export function entraUserChoices(directory: Directory, limit = 60): { id: string; label: string }[] {
  const users = directory.listUsers();
  const assigned = users.filter((user) => directory.assignmentsOf(user.id).length > 0);
  const others = users.filter((user) => directory.assignmentsOf(user.id).length === 0);
  return [...assigned, ...others].slice(0, limit).map((user) => ({
    id: user.id,
    label: `${user.displayName} — ${directory.assignmentsOf(user.id).length > 0 ? "assigned" : "not assigned directly"}${user.accountEnabled ? "" : ", sign-in blocked"}`,
  }));
}
