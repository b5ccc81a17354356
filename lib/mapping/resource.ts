import { scopeAttributes } from "../scoping";
import { ExpressionEvaluationError, ExpressionSyntaxError } from "./errors";
import { evaluate, type EvaluationOptions } from "./evaluator";
import { canonicalJson, sha256Hex } from "./hash";
import {
  attributesReadBy,
  type TAttributeMapping,
  type TMappingConfig,
  type TObjectMapping,
  type TObjectType,
} from "./model";
import {
  CORE_GROUP_SCHEMA,
  CORE_USER_SCHEMA,
  parseScimPath,
  scimPathKey,
  writeScimPath,
  type ScimPath,
} from "./scim-path";
import {
  AppRoleValue,
  numberToText,
  type EntraValue,
  type ExportedValue,
  type ScimComplexValue,
} from "./values";

export interface ProvisioningOptions extends EvaluationOptions {
  /**
   * Translates a reference (a group member's source objectId) into the target resource id. Without it the
   * values are used as they are; a reference that resolves to null/undefined is left out, as Entra does
   * with members it has not provisioned.
   */
  resolveReference?: (targetAttribute: string, sourceValue: string) => string | null | undefined;
}

export type ProvisioningOperation = "create" | "update";

/** One target attribute with the value Entra would export for it. */
export interface DesiredAttribute {
  mapping: TAttributeMapping;
  path: ScimPath;
  /** The SCIM value to send (e.g. active as a Boolean, members as [{ value }]). */
  value: Exclude<ExportedValue, null> | { value: string }[];
  redacted: boolean;
  /** How a multi-valued complex attribute is updated: add missing entries, or replace the whole list. */
  update: "value" | "addMissing" | "replaceAll" | "reference";
}

export interface AttributeProblem {
  target: string;
  message: string;
}

export interface DesiredState {
  attributes: DesiredAttribute[];
  /** Attributes whose expression failed; Entra fails (escrows) the object in that case. */
  problems: AttributeProblem[];
}

const BOOLEAN_TARGETS = new Set(["active"]);
const REFERENCE_TARGETS = new Set(["members", "manager"]);

function isReferenceTarget(path: ScimPath): boolean {
  return REFERENCE_TARGETS.has(path.attribute.toLowerCase()) && path.filter === null;
}

export function expressionFor(mapping: TAttributeMapping): string | null {
  switch (mapping.type) {
    case "Direct":
      return `[${mapping.source.trim()}]`;
    case "Expression":
      return mapping.source;
    default:
      return null;
  }
}

function toBooleanTarget(value: ExportedValue): ExportedValue {
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === "true";
  return value;
}

/** SCIM attributes are strings unless Entra's target schema says otherwise; active is the Boolean one here. */
function coerceForTarget(path: ScimPath, exported: ExportedValue, raw: EntraValue): ExportedValue {
  if (path.schema === null && BOOLEAN_TARGETS.has(path.attribute) && !path.subAttribute)
    return toBooleanTarget(exported);
  if (raw instanceof AppRoleValue && path.attribute.toLowerCase() === "roles" && path.subAttribute) {
    const sub = path.subAttribute.toLowerCase();
    return sub === "display" ? raw.display : sub === "type" ? raw.type : raw.value;
  }
  if (typeof exported === "number") return numberToText(exported);
  if (typeof exported === "boolean") return exported ? "True" : "False";
  if (Array.isArray(exported) && (path.filter !== null || path.subAttribute !== null)) {
    const first = exported[0];
    return first === undefined ? null : typeof first === "string" ? first : null;
  }
  return exported;
}

/**
 * What Entra would export for each mapped attribute of one source object. `update` leaves out mappings
 * applied only during creation, and "Default value if null" is used only on `create` (Microsoft: the
 * default is "only provisioned on create"). NULL is never exported.
 */
export function desiredState(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  operation: ProvisioningOperation,
  options: ProvisioningOptions = {},
): DesiredState {
  const attributes: DesiredAttribute[] = [];
  const problems: AttributeProblem[] = [];
  for (const mapping of objectMapping.attributeMappings) {
    if (operation === "update" && (mapping.apply === "OnlyDuringCreation" || mapping.type === "None"))
      continue;
    let path: ScimPath;
    try {
      path = parseScimPath(mapping.target);
    } catch (error) {
      problems.push({
        target: mapping.target,
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    let exported: ExportedValue | undefined = null;
    let raw: EntraValue = null;
    let redacted = false;
    let functionName: string | undefined;
    const expression = expressionFor(mapping);
    if (mapping.type === "Constant") {
      exported = mapping.source;
      raw = mapping.source;
    } else if (expression !== null) {
      try {
        const result = evaluate(expression, source, options);
        exported = result.value;
        raw = result.raw;
        redacted = result.redacted;
        const outer = /^\s*([A-Za-z]+)\s*\(/.exec(expression);
        functionName = outer?.[1];
      } catch (error) {
        if (error instanceof ExpressionEvaluationError || error instanceof ExpressionSyntaxError) {
          problems.push({ target: mapping.target, message: error.message });
          continue;
        }
        throw error;
      }
    }
    if (exported === undefined) continue; // IgnoreFlowIfNullOrEmpty
    if (exported === null && operation === "create" && mapping.defaultValue !== null)
      exported = mapping.defaultValue;
    if (exported === null) continue;

    if (isReferenceTarget(path)) {
      const ids = (Array.isArray(exported) ? exported : [exported])
        .map((item) =>
          typeof item === "string"
            ? item
            : typeof item === "object" && item !== null
              ? String(item.value ?? "")
              : String(item),
        )
        .map((id) => (options.resolveReference ? options.resolveReference(mapping.target, id) : id))
        .filter((id): id is string => typeof id === "string" && id !== "");
      attributes.push({
        mapping,
        path,
        value: ids.map((id) => ({ value: id })),
        redacted,
        update: "reference",
      });
      continue;
    }
    const value = coerceForTarget(path, exported, raw);
    if (value === null) continue;
    const isRoleList = Array.isArray(value) && value.length > 0 && typeof value[0] === "object";
    const update = isRoleList
      ? functionName === "AppRoleAssignmentsComplex"
        ? "addMissing"
        : "replaceAll"
      : "value";
    attributes.push({ mapping, path, value, redacted, update });
  }
  return { attributes, problems };
}

export interface CreateResourceResult {
  /** The SCIM resource to POST. */
  resource: Record<string, unknown>;
  attributes: DesiredAttribute[];
  problems: AttributeProblem[];
}

/**
 * The SCIM resource Entra POSTs for a new object. Reference attributes (members, manager) are left out:
 * Entra creates the object first and adds references with a PATCH once the referenced objects exist.
 */
export function buildCreateResource(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  options: ProvisioningOptions = {},
): CreateResourceResult {
  const { attributes, problems } = desiredState(objectMapping, source, "create", options);
  const isGroup = objectMapping.sourceObjectName.toLowerCase() === "group";
  const coreSchema = isGroup ? CORE_GROUP_SCHEMA : CORE_USER_SCHEMA;
  const schemas = [coreSchema];
  const resource: Record<string, unknown> = { schemas };
  for (const attribute of attributes) {
    if (attribute.update === "reference") continue;
    if (attribute.path.schema && !schemas.includes(attribute.path.schema))
      schemas.push(attribute.path.schema);
    writeScimPath(resource, attribute.path, attribute.value);
    // Entra marks the work e-mail as the primary one when it creates a user.
    if (attribute.path.attribute === "emails" && attribute.path.filter?.value === "work") {
      const entries = resource.emails as Record<string, unknown>[];
      const work = entries.find((entry) => entry.type === "work");
      if (work) work.primary = true;
    }
  }
  resource.meta = { resourceType: isGroup ? "Group" : "User" };
  return { resource, attributes, problems };
}

export interface MatchingValue {
  targetAttribute: string;
  value: string;
  priority: number;
}

/**
 * The values to look the object up by in the target, in matching precedence order. Entra tries them one
 * by one and stops at the first match; attributes whose value is NULL or empty are skipped (an object with
 * none cannot be matched and is skipped by Entra).
 */
export function matchingValues(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  options: ProvisioningOptions = {},
): MatchingValue[] {
  const matching = objectMapping.attributeMappings
    .filter((mapping) => mapping.matchingPriority > 0)
    .sort((a, b) => a.matchingPriority - b.matchingPriority);
  const only: TObjectMapping = { ...objectMapping, attributeMappings: matching };
  const { attributes } = desiredState(only, source, "create", options);
  const values: MatchingValue[] = [];
  for (const mapping of matching) {
    const attribute = attributes.find((candidate) => candidate.mapping === mapping);
    if (!attribute) continue;
    const value = attribute.value;
    const text =
      typeof value === "string"
        ? value
        : typeof value === "boolean"
          ? value
            ? "True"
            : "False"
          : typeof value === "number"
            ? String(value)
            : null;
    if (text === null || text === "") continue;
    values.push({ targetAttribute: mapping.target, value: text, priority: mapping.matchingPriority });
  }
  return values;
}

/**
 * A stable SHA-256 of what an update would export. Equal hashes mean an update would send nothing new, so
 * the sync engine can skip the GET + PATCH for objects whose source did not change in a way that matters.
 */
export function desiredStateHash(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  options: ProvisioningOptions = {},
): string {
  const { attributes, problems } = desiredState(objectMapping, source, "update", options);
  const state = attributes
    .map((attribute) => [scimPathKey(attribute.path), attribute.value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(canonicalJson({ state, problems: problems.map((problem) => problem.target).sort() }));
}

/** The Entra attributes a configuration reads for one object type (for Microsoft Graph $select). */
export function sourceAttributesFor(config: TMappingConfig, objectType: TObjectType): string[] {
  const objectMapping = objectType === "user" ? config.users : config.groups;
  const names = new Set<string>(["objectId"]);
  for (const mapping of objectMapping.attributeMappings)
    for (const name of attributesReadBy(mapping)) names.add(name);
  for (const name of scopeAttributes(objectMapping.scope)) names.add(name);
  return [...names];
}

export type { ScimComplexValue };
