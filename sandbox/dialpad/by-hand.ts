import type { DialpadCompany, DialpadUser } from "./company";
import { CORE_USER, PATCH_OP } from "./urns";

/**
 * What a Dialpad admin does in Dialpad's own portal, behind Entra's back: users created by hand (the
 * reconcile report's orphans) and managed users edited or suspended there (its drift). The sandbox hub's
 * "Change Dialpad by hand" button and the SANDBOX_DIALPAD_BY_HAND seed option call these.
 */

export const HAND_MADE_USERS = [
  { userName: "front.desk@contoso.example", givenName: "Front", familyName: "Desk", title: "Reception" },
  { userName: "conference.room@contoso.example", givenName: "Conference", familyName: "Room", title: null },
  // The userName of an Entra user who is not assigned to the app: a matching-attribute collision.
  { userName: "una.unassigned@contoso.example", givenName: "Una", familyName: "Unassigned", title: null },
] as const;

export const HAND_EDITED_TITLE = "Changed in Dialpad";

/** Creates the hand-made users that do not exist yet; returns the ones created. */
export function addHandMadeUsers(company: DialpadCompany): DialpadUser[] {
  const created: DialpadUser[] = [];
  for (const person of HAND_MADE_USERS) {
    if (company.findUserByUserName(person.userName)) continue;
    created.push(
      company.createUser({
        schemas: [CORE_USER],
        userName: person.userName,
        name: { givenName: person.givenName, familyName: person.familyName },
        displayName: `${person.givenName} ${person.familyName}`,
        emails: [{ value: person.userName, type: "work", primary: true }],
        active: true,
        ...(person.title ? { title: person.title } : {}),
      }),
    );
  }
  return created;
}

/**
 * Edits users and groups Entra provisioned (they carry an externalId): the first user's title is
 * changed, the second user is suspended, and the first group with members loses one. Returns what
 * changed, for the hub to say.
 */
export function editManagedUsersByHand(company: DialpadCompany): string[] {
  const managed = [...company.users.values()].filter(
    (user) => typeof user.attributes.externalId === "string" && company.isActive(user),
  );
  const changes: string[] = [];
  const [retitled, suspended] = managed;
  if (retitled) {
    company.patchUser(retitled.id, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "title", value: HAND_EDITED_TITLE }],
    });
    changes.push(`title of ${String(retitled.attributes.userName)} set to "${HAND_EDITED_TITLE}"`);
  }
  if (suspended) {
    company.patchUser(suspended.id, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "active", value: false }],
    });
    changes.push(`${String(suspended.attributes.userName)} suspended`);
  }
  const group = [...company.groups.values()].find(
    (candidate) => candidate.externalId !== undefined && candidate.members.size > 0,
  );
  const [member] = group ? [...group.members] : [];
  if (group && member) {
    company.patchGroup(group.id, {
      schemas: [PATCH_OP],
      Operations: [{ op: "remove", path: `members[value eq "${member}"]` }],
    });
    const userName = company.users.get(member)?.attributes.userName ?? member;
    changes.push(`${String(userName)} removed from group ${group.displayName}`);
  }
  return changes;
}

/** The hub button: both of the above. */
export function changeDialpadByHand(company: DialpadCompany): string[] {
  const created = addHandMadeUsers(company).map((user) => `${String(user.attributes.userName)} created`);
  return [...created, ...editManagedUsersByHand(company)];
}
