import { CORE_GROUP_SCHEMA, CORE_USER_SCHEMA, parseScimPath, ScimPathError } from "../mapping/scim-path";
import type { ScimResourceType, ScimSchemaDefinition } from "./schemas";

/**
 * Which mapped target attributes a SCIM server does not declare in its /Schemas (and /ResourceTypes, for
 * extensions). A server that does not declare an attribute may refuse writes that carry it — a strict
 * RFC 7644 server answers 400 invalidPath or invalidValue — so the self-test warns before a cycle does.
 */

export interface UndeclaredAttribute {
  resource: "User" | "Group";
  /** The mapping's target as written, e.g. urn:…:enterprise:2.0:User:officeName or emails[type eq "work"].value. */
  target: string;
  /** Why it counts as undeclared. */
  reason: string;
}

type AttributeDefinition = { name: string; subAttributes?: unknown };

/** RFC 7643 §3.1: common to every resource, never listed in a resource's schema. */
const COMMON_ATTRIBUTES = new Set(["id", "externalid", "meta", "schemas"]);

export function findUndeclaredAttributes(input: {
  resource: "User" | "Group";
  targets: readonly string[];
  schemas: readonly ScimSchemaDefinition[];
  /** Absent when /ResourceTypes could not be read: extensions are then judged by /Schemas alone. */
  resourceTypes?: readonly ScimResourceType[];
}): UndeclaredAttribute[] {
  const coreSchema = input.resource === "User" ? CORE_USER_SCHEMA : CORE_GROUP_SCHEMA;
  const resourceType = input.resourceTypes?.find(
    (type) => type.schema.toLowerCase() === coreSchema.toLowerCase(),
  );
  const undeclared: UndeclaredAttribute[] = [];
  const seen = new Set<string>();
  for (const target of input.targets) {
    if (seen.has(target.toLowerCase())) continue;
    seen.add(target.toLowerCase());
    const reason = whyUndeclared(target, coreSchema, input.schemas, input.resourceTypes, resourceType);
    if (reason) undeclared.push({ resource: input.resource, target, reason });
  }
  return undeclared;
}

function whyUndeclared(
  target: string,
  coreSchema: string,
  schemas: readonly ScimSchemaDefinition[],
  resourceTypes: readonly ScimResourceType[] | undefined,
  resourceType: ScimResourceType | undefined,
): string | null {
  let path: ReturnType<typeof parseScimPath>;
  try {
    path = parseScimPath(target);
  } catch (error) {
    if (error instanceof ScimPathError) return "it is not a SCIM attribute path";
    throw error;
  }
  const schemaId = path.schema ?? coreSchema;
  if (!path.schema && COMMON_ATTRIBUTES.has(path.attribute.toLowerCase())) return null;
  const definition = schemas.find((schema) => schema.id.toLowerCase() === schemaId.toLowerCase());
  if (!definition) return `its schema ${schemaId} is not in /Schemas`;
  if (path.schema && resourceTypes) {
    const extensions = resourceType?.schemaExtensions ?? [];
    if (!extensions.some((extension) => extension.schema.toLowerCase() === schemaId.toLowerCase()))
      return `the ${resourceType?.name ?? "resource"} type in /ResourceTypes does not list the extension ${schemaId}`;
  }
  const attribute = findByName(definition.attributes ?? [], path.attribute);
  if (!attribute) return `${schemaId} has no attribute ${path.attribute}`;
  // A complex attribute whose sub-attributes are not listed says nothing about them: not flagged.
  const subAttributes = Array.isArray(attribute.subAttributes)
    ? (attribute.subAttributes as AttributeDefinition[])
    : undefined;
  if (!subAttributes) return null;
  for (const sub of [path.filter?.attribute, path.subAttribute]) {
    if (sub && !findByName(subAttributes, sub)) return `${attribute.name} has no sub-attribute ${sub}`;
  }
  return null;
}

function findByName(
  attributes: readonly AttributeDefinition[],
  name: string,
): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return attributes.find(
    (attribute) => typeof attribute.name === "string" && attribute.name.toLowerCase() === lower,
  );
}
