import type { GraphUser } from "../graph";

/**
 * Entra's provisioning schema names attributes after Azure AD's directory schema (`objectId`,
 * `mobile`, `physicalDeliveryOfficeName`, `telephoneNumber`), while Microsoft Graph names the same
 * data differently (`id`, `mobilePhone`, `officeLocation`, `businessPhones[0]`). Mappings are written in
 * Entra's names; this table translates both ways: Graph `$select` from mapping attributes, and a Graph
 * user into the source object mappings evaluate.
 */
const ENTRA_TO_GRAPH: Record<string, string> = {
  objectId: "id",
  userPrincipalName: "userPrincipalName",
  mail: "mail",
  mailNickname: "mailNickname",
  givenName: "givenName",
  surname: "surname",
  displayName: "displayName",
  jobTitle: "jobTitle",
  department: "department",
  companyName: "companyName",
  employeeId: "employeeId",
  accountEnabled: "accountEnabled",
  telephoneNumber: "businessPhones",
  mobile: "mobilePhone",
  facsimileTelephoneNumber: "faxNumber",
  physicalDeliveryOfficeName: "officeLocation",
  streetAddress: "streetAddress",
  city: "city",
  state: "state",
  postalCode: "postalCode",
  country: "country",
  usageLocation: "usageLocation",
  preferredLanguage: "preferredLanguage",
  proxyAddresses: "proxyAddresses",
  userType: "userType",
  employeeType: "employeeType",
  createdDateTime: "createdDateTime",
};

/** Attributes the engine computes rather than reads. */
const COMPUTED = new Set(["IsSoftDeleted", "appRoleAssignments"]);

/** Graph properties to `$select` for the given Entra attribute names (always id, UPN, display name, enabled). */
export function graphSelectFor(entraAttributes: Iterable<string>): string[] {
  const select = new Set(["id", "userPrincipalName", "displayName", "accountEnabled"]);
  for (const attribute of entraAttributes) {
    if (COMPUTED.has(attribute)) continue;
    const graphName =
      ENTRA_TO_GRAPH[attribute] ?? (/^[A-Za-z][A-Za-z0-9_]*$/.test(attribute) ? attribute : undefined);
    if (graphName) select.add(graphName);
  }
  return [...select].sort();
}

export interface EntraUserSource extends Record<string, unknown> {
  objectId: string;
  IsSoftDeleted: boolean;
}

/** The source object mappings and scoping filters see for a user. */
export function toEntraUser(
  user: GraphUser,
  computed: {
    isSoftDeleted: boolean;
    appRoleAssignments?: { id: string; value: string | null; displayName: string | null }[];
  },
): EntraUserSource {
  const source: EntraUserSource = { objectId: user.id, IsSoftDeleted: computed.isSoftDeleted };
  for (const [entraName, graphName] of Object.entries(ENTRA_TO_GRAPH)) {
    const value = (user as Record<string, unknown>)[graphName];
    if (value === undefined || value === null) continue;
    if (entraName === "telephoneNumber") {
      // Graph's businessPhones is a list; Entra's telephoneNumber is its first entry.
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === "string" && first) source.telephoneNumber = first;
      continue;
    }
    if (entraName === "objectId") continue;
    source[entraName] = value;
  }
  for (const [key, value] of Object.entries(user)) {
    if (key.startsWith("@") || key in source || Object.values(ENTRA_TO_GRAPH).includes(key)) continue;
    if (value !== null && value !== undefined) source[key] = value;
  }
  if (computed.appRoleAssignments) source.appRoleAssignments = computed.appRoleAssignments;
  return source;
}

/** Graph properties to `$select` for groups: members come from /members, never inline. */
export function graphGroupSelectFor(entraAttributes: Iterable<string>): string[] {
  const select = new Set(["id", "displayName"]);
  for (const attribute of entraAttributes) {
    if (COMPUTED.has(attribute) || attribute === "members") continue;
    const graphName =
      attribute === "objectId" ? "id" : /^[A-Za-z][A-Za-z0-9_]*$/.test(attribute) ? attribute : undefined;
    if (graphName) select.add(graphName);
  }
  return [...select].sort();
}

/** The source object group mappings see (Graph and Entra share the group property names but the id). */
export function toEntraGroup(group: Record<string, unknown> & { id: string }): Record<string, unknown> {
  const source: Record<string, unknown> = { objectId: group.id, IsSoftDeleted: false };
  for (const [key, value] of Object.entries(group)) {
    if (key === "id" || key.startsWith("@") || key.endsWith("@delta")) continue;
    if (value !== null && value !== undefined) source[key] = value;
  }
  return source;
}
