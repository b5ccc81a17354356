import type { TAttributeMapping } from "@/lib/mapping";
import {
  ENTRA_GROUP_ATTRIBUTES,
  ENTRA_USER_ATTRIBUTES,
  GRAPH_GROUP_PROPERTIES,
  GRAPH_USER_PROPERTIES,
} from "@/lib/mapping/source-attributes";

export type ObjectKey = "users" | "groups";

/**
 * Entra ID attributes admins map most often (suggestions only: any attribute Graph has, or a directory
 * extension, works). Not `manager`: the engine does not read references from Graph, so Save refuses it.
 */
export const SOURCE_ATTRIBUTES: Record<ObjectKey, string[]> = {
  users: [
    "accountEnabled",
    "appRoleAssignments",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "facsimileTelephoneNumber",
    "givenName",
    "IsSoftDeleted",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobile",
    "objectId",
    "physicalDeliveryOfficeName",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "state",
    "streetAddress",
    "surname",
    "telephoneNumber",
    "usageLocation",
    "userPrincipalName",
    "userType",
  ],
  groups: ["description", "displayName", "mail", "mailNickname", "members", "objectId"],
};

export interface SourceAttributeOption {
  name: string;
  /** One of the attributes admins map most often (listed first). */
  common: boolean;
}

/**
 * Every source attribute a mapping can read: the common ones first, then the rest of Entra's and
 * Microsoft Graph's names alphabetically (names compare case-insensitively, as Save checks them).
 */
export function sourceAttributeOptions(objectKey: ObjectKey): SourceAttributeOption[] {
  const all =
    objectKey === "users"
      ? [...ENTRA_USER_ATTRIBUTES, ...GRAPH_USER_PROPERTIES]
      : [...ENTRA_GROUP_ATTRIBUTES, ...GRAPH_GROUP_PROPERTIES];
  const seen = new Set<string>();
  const options: SourceAttributeOption[] = [];
  const add = (name: string, common: boolean) => {
    if (seen.has(name.toLowerCase())) return;
    seen.add(name.toLowerCase());
    options.push({ name, common });
  };
  for (const name of SOURCE_ATTRIBUTES[objectKey]) add(name, true);
  for (const name of [...all].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" })))
    add(name, false);
  return options;
}

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** Dialpad's SCIM attributes (core User/Group plus the enterprise extension Dialpad reads). */
export const TARGET_ATTRIBUTES: Record<ObjectKey, string[]> = {
  users: [
    "active",
    'addresses[type eq "work"].country',
    'addresses[type eq "work"].locality',
    'addresses[type eq "work"].postalCode',
    'addresses[type eq "work"].region',
    'addresses[type eq "work"].streetAddress',
    "displayName",
    'emails[type eq "work"].value',
    "externalId",
    "locale",
    "name.familyName",
    "name.givenName",
    'phoneNumbers[type eq "mobile"].value',
    'phoneNumbers[type eq "work"].value',
    "preferredLanguage",
    'roles[primary eq "True"].value',
    "title",
    "userName",
    `${ENTERPRISE}:department`,
    `${ENTERPRISE}:employeeNumber`,
    `${ENTERPRISE}:manager`,
    `${ENTERPRISE}:officeName`,
  ],
  groups: ["displayName", "externalId", "members"],
};

export const MAPPING_TYPES: TAttributeMapping["type"][] = ["Direct", "Constant", "Expression", "None"];

export const READ_ONLY_REASON = "Read-only: your role (Provisioning.Reader) cannot change settings.";

/** The expression a mapping evaluates, so Direct and Constant mappings get a live preview too. */
export function previewExpressionOf(mapping: Pick<TAttributeMapping, "type" | "source">): string {
  switch (mapping.type) {
    case "Direct":
      return mapping.source.trim() ? `[${mapping.source.trim()}]` : "";
    case "Constant":
      return `"${mapping.source.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
    case "Expression":
      return mapping.source;
    case "None":
      return "";
  }
}

export function describeSource(mapping: TAttributeMapping): string {
  if (mapping.type === "Direct") return mapping.source;
  if (mapping.type === "Constant") return `"${mapping.source}"`;
  if (mapping.type === "Expression") return mapping.source;
  return "";
}

/** The ghost button and text input primitives have no disabled look; read-only screens need one. */
export const GHOST_DISABLED =
  "disabled:text-slate-400 disabled:hover:bg-transparent dark:disabled:text-slate-600";
export const INPUT_DISABLED =
  "disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-600 dark:disabled:bg-slate-800 dark:disabled:text-slate-400";
