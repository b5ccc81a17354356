import { canonicalJson } from "./hash";
import type { TObjectMapping } from "./model";
import {
  desiredState,
  type AttributeProblem,
  type DesiredAttribute,
  type ProvisioningOptions,
} from "./resource";
import { readScimPath } from "./scim-path";

export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** Entra's default (non-aadOptscim062020) casing of PATCH operations. */
export type PatchOperationName = "Add" | "Replace" | "Remove";

export interface PatchOperation {
  op: PatchOperationName;
  path: string;
  value?: unknown;
}

/** One row of the provisioning log's "Modified properties". */
export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface PatchResult {
  operations: PatchOperation[];
  /** The body to send, or null when nothing changed (Entra logs the update as skipped: RedundantExport). */
  request: { schemas: [typeof PATCH_OP_SCHEMA]; Operations: PatchOperation[] } | null;
  modifiedProperties: ModifiedProperty[];
  problems: AttributeProblem[];
}

const REDACTED = "[Redact]";

function isEmpty(value: unknown): boolean {
  return (
    value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)
  );
}

function comparable(value: unknown, caseExact: boolean): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") {
    // SCIM sends Booleans as strings in some targets; "True" and true are the same value.
    if (/^(true|false)$/i.test(value)) return value.toLowerCase();
    return caseExact ? value : value.toLowerCase();
  }
  if (Array.isArray(value)) return canonicalJson(value.map((item) => comparable(item, caseExact)));
  return canonicalJson(value);
}

function display(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function referenceIds(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === "string") return [item];
    if (item && typeof item === "object" && typeof (item as { value?: unknown }).value === "string")
      return [(item as { value: string }).value];
    return [];
  });
}

function roleKey(role: unknown): string {
  if (role && typeof role === "object") return String((role as { value?: unknown }).value ?? "");
  return String(role);
}

/**
 * The minimal PATCH that turns the current target resource into the desired one:
 * - a changed single value → Replace (Add when the target has none), path as Entra writes it
 *   (`emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:department`);
 * - attributes applied only during creation, NULL values and None mappings are left alone;
 * - members → Add/Remove of the difference ({ "$ref": null, value } entries, as Entra sends them);
 *   when `current` carries no members (Entra reads groups with excludedAttributes=members) only Adds;
 * - AppRoleAssignmentsComplex roles → Add of the missing roles; Assertive → Replace of the list.
 * Values compare case-insensitively unless the mapping is caseExact (Entra's default for String attributes).
 */
export function buildPatch(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
  options: ProvisioningOptions = {},
): PatchResult {
  const { attributes, problems } = desiredState(objectMapping, source, "update", options);
  const operations: PatchOperation[] = [];
  const modifiedProperties: ModifiedProperty[] = [];
  const record = (attribute: DesiredAttribute, oldValue: unknown, newValue: unknown): void => {
    modifiedProperties.push({
      displayName: attribute.mapping.target,
      oldValue:
        attribute.redacted && oldValue !== undefined && oldValue !== null ? REDACTED : display(oldValue),
      newValue: attribute.redacted ? REDACTED : display(newValue),
    });
  };

  for (const attribute of attributes) {
    const path = attribute.path.raw;
    const currentValue = readScimPath(current, attribute.path);
    switch (attribute.update) {
      case "reference": {
        const desiredIds = referenceIds(attribute.value);
        const knownCurrent = currentValue !== undefined;
        const currentIds = referenceIds(currentValue);
        const added = desiredIds.filter((id) => !currentIds.includes(id));
        const removed = knownCurrent ? currentIds.filter((id) => !desiredIds.includes(id)) : [];
        if (added.length > 0) {
          operations.push({ op: "Add", path, value: added.map((id) => ({ $ref: null, value: id })) });
        }
        if (removed.length > 0) {
          operations.push({ op: "Remove", path, value: removed.map((id) => ({ $ref: null, value: id })) });
        }
        if (added.length > 0 || removed.length > 0)
          record(attribute, knownCurrent ? currentIds : null, desiredIds);
        break;
      }
      case "addMissing": {
        const currentRoles = Array.isArray(currentValue) ? currentValue : [];
        const have = new Set(currentRoles.map(roleKey));
        const missing = (attribute.value as unknown[]).filter((role) => !have.has(roleKey(role)));
        if (missing.length > 0) {
          operations.push({ op: "Add", path, value: missing });
          record(attribute, currentRoles.length > 0 ? currentRoles : null, missing);
        }
        break;
      }
      case "replaceAll": {
        const currentKeys = (Array.isArray(currentValue) ? currentValue : []).map(roleKey).sort();
        const desiredKeys = (attribute.value as unknown[]).map(roleKey).sort();
        if (canonicalJson(currentKeys) !== canonicalJson(desiredKeys)) {
          operations.push({ op: "Replace", path, value: attribute.value });
          record(attribute, isEmpty(currentValue) ? null : currentValue, attribute.value);
        }
        break;
      }
      case "value": {
        if (
          !isEmpty(currentValue) &&
          comparable(currentValue, attribute.mapping.caseExact) ===
            comparable(attribute.value, attribute.mapping.caseExact)
        ) {
          break;
        }
        if (isEmpty(currentValue) && isEmpty(attribute.value)) break;
        operations.push({ op: isEmpty(currentValue) ? "Add" : "Replace", path, value: attribute.value });
        record(attribute, isEmpty(currentValue) ? null : currentValue, attribute.value);
        break;
      }
    }
  }
  return {
    operations,
    request: operations.length > 0 ? { schemas: [PATCH_OP_SCHEMA], Operations: operations } : null,
    modifiedProperties,
    problems,
  };
}

/** Modified properties for a create: every exported attribute, old value NULL, Redact honoured. */
export function createdProperties(attributes: readonly DesiredAttribute[]): ModifiedProperty[] {
  return attributes
    .filter((attribute) => attribute.update !== "reference")
    .map((attribute) => ({
      displayName: attribute.mapping.target,
      oldValue: null,
      newValue: attribute.redacted ? REDACTED : display(attribute.value),
    }));
}
