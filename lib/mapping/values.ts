import { formatEntraDateTime } from "./datetime";

/**
 * A DateTime produced by CDate, DateAdd, DateFromNum or Now. Entra documents DateTime as "not a native
 * attribute type": it exists inside an expression and is exported as a string in M/d/yyyy h:mm:ss tt.
 * All instants are UTC because the provisioning service runs in UTC.
 */
export class EntraDateTime {
  constructor(readonly epochMilliseconds: number) {}
  toString(): string {
    return formatEntraDateTime(this.epochMilliseconds);
  }
}

/** One app role assignment as SingleAppRoleAssignment and the *Complex functions see it. */
export class AppRoleValue {
  constructor(
    readonly value: string,
    readonly display: string,
    readonly primary: boolean,
    readonly type = "WindowsAzureActiveDirectoryRole",
  ) {}
}

/** Returned (instead of a value) when IgnoreFlowIfNullOrEmpty decided the attribute must not flow. */
export const IGNORE_FLOW: unique symbol = Symbol("IgnoreFlow");
export type IgnoreFlow = typeof IGNORE_FLOW;

export type EntraScalar = string | number | boolean | EntraDateTime | AppRoleValue;
/** null stands for Entra's NULL: the attribute is absent. Arrays are multi-valued attributes. */
export type EntraValue = null | EntraScalar | EntraScalar[] | IgnoreFlow;

/** A complex SCIM value, as AppRoleAssignmentsComplex exports roles. */
export type ScimComplexValue = Record<string, string | boolean>;

/** What an expression exports: the shapes a SCIM attribute value can take. */
export type ExportedValue = string | number | boolean | string[] | ScimComplexValue[] | null;

export function isNullValue(value: EntraValue): value is null {
  return value === null;
}

/** Entra's "null or empty": absent, "", or a multi-valued attribute with no values. */
export function isNullOrEmpty(value: EntraValue): boolean {
  if (value === null || value === IGNORE_FLOW) return true;
  if (typeof value === "string") return value.length === 0;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

/**
 * The string a scalar becomes wherever Entra needs text: booleans follow .NET's Boolean.ToString()
 * ("True"/"False"), which is why Switch([IsSoftDeleted], , "False", "True", ...) matches "False".
 */
export function scalarToText(value: EntraScalar): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return numberToText(value);
  if (value instanceof EntraDateTime) return value.toString();
  return value.value;
}

export function numberToText(value: number): string {
  if (Number.isInteger(value)) return value.toFixed(0);
  return String(value);
}

/**
 * Text of a value for string functions: NULL stays null; a multi-valued attribute reads as its first
 * value (Entra passes single-valued functions the first value of a multi-valued input).
 */
export function toText(value: EntraValue): string | null {
  if (value === null || value === IGNORE_FLOW) return null;
  if (Array.isArray(value)) {
    const first = value[0];
    return first === undefined ? null : scalarToText(first);
  }
  return scalarToText(value);
}

export function toValueList(value: EntraValue): EntraScalar[] {
  if (value === null || value === IGNORE_FLOW) return [];
  return Array.isArray(value) ? value : [value];
}

/** Converts one raw source attribute (JSON from Microsoft Graph or a test) to an expression value. */
export function fromSourceValue(raw: unknown): EntraValue {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "string" || typeof raw === "boolean") return raw;
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  if (typeof raw === "bigint") return Number(raw);
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : new EntraDateTime(raw.getTime());
  if (Array.isArray(raw)) {
    const items: EntraScalar[] = [];
    for (const item of raw) {
      const converted = fromSourceValue(item);
      if (converted === null || converted === IGNORE_FLOW) continue;
      if (Array.isArray(converted)) items.push(...converted);
      else items.push(converted);
    }
    return items;
  }
  if (typeof raw === "object") return appRoleFromObject(raw as Record<string, unknown>);
  return String(raw);
}

/**
 * appRoleAssignments arrive as objects. Entra resolves each assignment to its app role's value and display
 * name; we accept the role fields directly ({ value, displayName }) or Graph-like shapes carrying
 * appRoleValue / appRoleDisplayName / resourceDisplayName.
 */
function appRoleFromObject(raw: Record<string, unknown>): EntraValue {
  const text = (key: string): string | undefined => {
    const candidate = raw[key];
    return typeof candidate === "string" && candidate.length > 0 ? candidate : undefined;
  };
  const value = text("value") ?? text("appRoleValue") ?? text("appRoleId") ?? text("id");
  if (value === undefined) return null;
  const display = text("displayName") ?? text("display") ?? text("appRoleDisplayName") ?? value;
  return new AppRoleValue(value, display, raw.primary === true);
}

/** The value Entra exports for an expression result. */
export function toExportedValue(value: EntraValue): ExportedValue | undefined {
  if (value === IGNORE_FLOW) return undefined;
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((item) => item instanceof AppRoleValue)) {
      return (value as AppRoleValue[]).map((role) => ({
        primary: role.primary,
        type: role.type,
        display: role.display,
        value: role.value,
      }));
    }
    return value.map(scalarToText);
  }
  if (value instanceof EntraDateTime || value instanceof AppRoleValue) return scalarToText(value);
  return value;
}

/** A short, human-readable rendering for traces. */
export function describeValue(value: EntraValue): string {
  if (value === IGNORE_FLOW) return "(not flowed)";
  if (value === null) return "NULL";
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(scalarToText(item))).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  return scalarToText(value);
}
