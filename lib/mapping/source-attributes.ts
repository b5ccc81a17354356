import type { ExpressionNode, SourceSpan } from "./ast";
import { positionAt, type SourcePosition } from "./errors";
import type { TMappingConfig, TObjectMapping } from "./model";
import { parseExpression } from "./parser";

/**
 * The source attributes a mapping may read, so that a typo (`[jobTitel]`) is refused when it is saved
 * instead of failing every cycle on Microsoft Graph's 400.
 *
 * Properties of Microsoft Graph v1.0's user resource that a list or delta query can `$select`. Left out on
 * purpose: the properties Graph returns only when one user is read (aboutMe, birthday, hireDate, interests,
 * mailboxSettings, mySite, pastProjects, preferredName, responsibilities, schools, skills) and
 * signInActivity (it needs AuditLog.Read.All): a cycle reading every user cannot select them.
 */
export const GRAPH_USER_PROPERTIES: readonly string[] = [
  "accountEnabled",
  "ageGroup",
  "assignedLicenses",
  "assignedPlans",
  "authorizationInfo",
  "businessPhones",
  "city",
  "companyName",
  "consentProvidedForMinor",
  "country",
  "createdDateTime",
  "creationType",
  "deletedDateTime",
  "department",
  "displayName",
  "employeeHireDate",
  "employeeId",
  "employeeLeaveDateTime",
  "employeeOrgData",
  "employeeType",
  "externalUserState",
  "externalUserStateChangeDateTime",
  "faxNumber",
  "givenName",
  "id",
  "identities",
  "imAddresses",
  "isManagementRestricted",
  "isResourceAccount",
  "jobTitle",
  "lastPasswordChangeDateTime",
  "legalAgeGroupClassification",
  "licenseAssignmentStates",
  "mail",
  "mailNickname",
  "mobilePhone",
  "officeLocation",
  "onPremisesDistinguishedName",
  "onPremisesDomainName",
  "onPremisesExtensionAttributes",
  "onPremisesImmutableId",
  "onPremisesLastSyncDateTime",
  "onPremisesProvisioningErrors",
  "onPremisesSamAccountName",
  "onPremisesSecurityIdentifier",
  "onPremisesSyncEnabled",
  "onPremisesUserPrincipalName",
  "otherMails",
  "passwordPolicies",
  "passwordProfile",
  "postalCode",
  "preferredDataLocation",
  "preferredLanguage",
  "provisionedPlans",
  "proxyAddresses",
  "securityIdentifier",
  "serviceProvisioningErrors",
  "showInAddressList",
  "signInSessionsValidFromDateTime",
  "state",
  "streetAddress",
  "surname",
  "usageLocation",
  "userPrincipalName",
  "userType",
];

/** Properties of Microsoft Graph v1.0's group resource that a list or delta query can `$select`. */
export const GRAPH_GROUP_PROPERTIES: readonly string[] = [
  "assignedLabels",
  "assignedLicenses",
  "classification",
  "createdDateTime",
  "deletedDateTime",
  "description",
  "displayName",
  "expirationDateTime",
  "groupTypes",
  "hasMembersWithLicenseErrors",
  "id",
  "isAssignableToRole",
  "licenseProcessingState",
  "mail",
  "mailEnabled",
  "mailNickname",
  "membershipRule",
  "membershipRuleProcessingState",
  "onPremisesDomainName",
  "onPremisesLastSyncDateTime",
  "onPremisesNetBiosName",
  "onPremisesProvisioningErrors",
  "onPremisesSamAccountName",
  "onPremisesSecurityIdentifier",
  "onPremisesSyncEnabled",
  "preferredDataLocation",
  "preferredLanguage",
  "proxyAddresses",
  "renewedDateTime",
  "securityEnabled",
  "securityIdentifier",
  "serviceProvisioningErrors",
  "theme",
  "uniqueName",
  "visibility",
];

/**
 * Entra's provisioning schema names some user attributes after the on-premises directory (objectId,
 * mobile, telephoneNumber...); the engine translates them to Graph (lib/sync/source.ts). IsSoftDeleted
 * and appRoleAssignments are computed by the engine, not read.
 */
export const ENTRA_USER_ATTRIBUTES: readonly string[] = [
  "objectId",
  "mobile",
  "telephoneNumber",
  "facsimileTelephoneNumber",
  "physicalDeliveryOfficeName",
  "IsSoftDeleted",
  "appRoleAssignments",
];

/** Group attributes the engine provides beyond Graph's: the id under Entra's name and the members. */
export const ENTRA_GROUP_ATTRIBUTES: readonly string[] = ["objectId", "members", "IsSoftDeleted"];

/**
 * A directory extension attribute as Graph names it: `extension_`, the owning application's appId
 * without dashes (32 hexadecimal digits), `_`, the extension's name.
 */
export const EXTENSION_ATTRIBUTE_PATTERN = /^extension_[0-9a-f]{32}_[A-Za-z0-9_]+$/i;

export type SourceObjectType = "users" | "groups";

/** One place a mapping reads a source attribute. */
export interface AttributeReference {
  objectType: SourceObjectType;
  /** The field that holds the reference, as the API reports field errors. */
  path: (string | number)[];
  name: string;
  /** Where in an expression the reference stands (absent for a Direct mapping or a scoping clause). */
  span?: SourceSpan;
  position?: SourcePosition;
}

function referencesInNode(node: ExpressionNode, found: { name: string; span: SourceSpan }[]): void {
  switch (node.kind) {
    case "attribute":
      found.push({ name: node.name, span: node.span });
      return;
    case "call":
      for (const argument of node.args) referencesInNode(argument, found);
      return;
    case "comparison":
      referencesInNode(node.left, found);
      referencesInNode(node.right, found);
      return;
    default:
      return;
  }
}

function referencesInObjectMapping(
  objectType: SourceObjectType,
  mapping: TObjectMapping,
): AttributeReference[] {
  const references: AttributeReference[] = [];
  mapping.attributeMappings.forEach((attribute, index) => {
    const path = [objectType, "attributeMappings", index, "source"];
    if (attribute.type === "Direct") {
      const name = attribute.source.trim();
      if (name) references.push({ objectType, path, name });
      return;
    }
    if (attribute.type !== "Expression") return;
    let ast: ExpressionNode;
    try {
      ast = parseExpression(attribute.source);
    } catch {
      // A syntax error is reported by the model's own validation, at the same field.
      return;
    }
    const found: { name: string; span: SourceSpan }[] = [];
    referencesInNode(ast, found);
    for (const { name, span } of found)
      references.push({ objectType, path, name, span, position: positionAt(attribute.source, span.start) });
  });
  mapping.scope?.groups.forEach((group, groupIndex) =>
    group.clauses.forEach((clause, clauseIndex) => {
      const name = clause.sourceOperandName.trim();
      if (!name) return;
      references.push({
        objectType,
        path: [objectType, "scope", "groups", groupIndex, "clauses", clauseIndex, "sourceOperandName"],
        name,
      });
    }),
  );
  return references;
}

/**
 * Every source attribute the configuration reads, each with the field it stands in and, inside an
 * expression, its position; read from the expression's syntax tree, so a bracket inside a string literal
 * (`"[not an attribute]"`) is no reference.
 */
export function collectAttributeReferences(config: TMappingConfig): AttributeReference[] {
  return [
    ...referencesInObjectMapping("users", config.users),
    ...referencesInObjectMapping("groups", config.groups),
  ];
}

/**
 * The directory extension attributes Graph has for this tenant, or null when Graph could not say (not
 * reachable, or the app lacks the permission): then any name of the documented shape is accepted.
 */
export interface ExtensionCatalog {
  users: readonly string[];
  groups: readonly string[];
}

export interface UnknownAttributeProblem {
  reference: AttributeReference;
  /** The field, joined as the API reports it (e.g. users.attributeMappings.3.source). */
  field: string;
  message: string;
}

const lowerSet = (names: Iterable<string>) => new Set([...names].map((name) => name.toLowerCase()));
const KNOWN: Record<SourceObjectType, Set<string>> = {
  users: lowerSet([...GRAPH_USER_PROPERTIES, ...ENTRA_USER_ATTRIBUTES]),
  groups: lowerSet([...GRAPH_GROUP_PROPERTIES, ...ENTRA_GROUP_ATTRIBUTES]),
};

const TYPE_NAMES: Record<SourceObjectType, string> = {
  users: "microsoft.graph.user",
  groups: "microsoft.graph.group",
};

/** Whether `name` is a source attribute of the object type (names compare case-insensitively, as in Graph). */
export function isKnownSourceAttribute(
  objectType: SourceObjectType,
  name: string,
  extensions: ExtensionCatalog | null,
): boolean {
  const lower = name.toLowerCase();
  if (KNOWN[objectType].has(lower)) return true;
  if (!EXTENSION_ATTRIBUTE_PATTERN.test(name)) return false;
  if (!extensions) return true;
  return extensions[objectType].some((extension) => extension.toLowerCase() === lower);
}

/** The references to attributes Graph does not have, one problem per reference. */
export function findUnknownSourceAttributes(
  config: TMappingConfig,
  extensions: ExtensionCatalog | null,
): UnknownAttributeProblem[] {
  return collectAttributeReferences(config)
    .filter((reference) => !isKnownSourceAttribute(reference.objectType, reference.name, extensions))
    .map((reference) => {
      const where = reference.position
        ? ` (line ${reference.position.line}, column ${reference.position.column})`
        : "";
      const kind = EXTENSION_ATTRIBUTE_PATTERN.test(reference.name)
        ? `directory extension attribute "${reference.name}" is not registered in this tenant for ${reference.objectType}`
        : `"${reference.name}" is not an attribute of ${TYPE_NAMES[reference.objectType]} in Microsoft Graph`;
      return {
        reference,
        field: reference.path.join("."),
        message: `the source ${kind}${where}`,
      };
    });
}
