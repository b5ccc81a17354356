export const CORE_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const CORE_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/**
 * A target attribute as Entra names it: `userName`, `name.givenName`, `emails[type eq "work"].value`,
 * `roles[primary eq "True"].value`, or any of these behind a schema URN such as
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
 */
export interface ScimPath {
  raw: string;
  /** Extension schema URN; null for the core schema (a core URN prefix is accepted and dropped). */
  schema: string | null;
  attribute: string;
  /** The value filter selecting one entry of a multi-valued attribute, e.g. type eq "work". */
  filter: { attribute: string; value: string } | null;
  subAttribute: string | null;
}

export class ScimPathError extends Error {
  override readonly name = "ScimPathError";
}

const NAME = "[A-Za-z_$][A-Za-z0-9_$-]*";
const ATTRIBUTE_PATH = new RegExp(
  `^(${NAME})(?:\\[\\s*(${NAME})\\s+eq\\s+"([^"]*)"\\s*\\])?(?:\\.(${NAME}))?$`,
);

export function parseScimPath(raw: string): ScimPath {
  const text = raw.trim();
  let schema: string | null = null;
  let rest = text;
  if (text.toLowerCase().startsWith("urn:")) {
    // The schema ends at the last ":" outside a [filter]: "urn:...:User:manager.value".
    const bracket = text.indexOf("[");
    const head = bracket < 0 ? text : text.slice(0, bracket);
    const colon = head.lastIndexOf(":");
    if (colon < 0) throw new ScimPathError(`"${raw}" has a schema URN but no attribute after it`);
    schema = text.slice(0, colon);
    rest = text.slice(colon + 1);
    if (schema === CORE_USER_SCHEMA || schema === CORE_GROUP_SCHEMA) schema = null;
  }
  const match = ATTRIBUTE_PATH.exec(rest);
  if (!match) {
    throw new ScimPathError(
      `"${raw}" is not a SCIM attribute path (expected forms: userName, name.givenName, emails[type eq "work"].value, urn:...:User:department)`,
    );
  }
  const [, attribute = "", filterAttribute, filterValue, subAttribute] = match;
  return {
    raw: text,
    schema,
    attribute,
    filter: filterAttribute === undefined ? null : { attribute: filterAttribute, value: filterValue ?? "" },
    subAttribute: subAttribute ?? null,
  };
}

/** Paths naming the same SCIM attribute compare equal (attribute names are case-insensitive in SCIM). */
export function scimPathKey(path: ScimPath): string {
  const filter = path.filter ? `[${path.filter.attribute.toLowerCase()} eq "${path.filter.value}"]` : "";
  const sub = path.subAttribute ? `.${path.subAttribute.toLowerCase()}` : "";
  return `${(path.schema ?? "").toLowerCase()}|${path.attribute.toLowerCase()}${filter}${sub}`;
}

/** Filter values that SCIM models as Booleans (roles[primary eq "True"]). */
function filterValueMatches(entryValue: unknown, expected: string): boolean {
  if (typeof entryValue === "boolean") return String(entryValue).toLowerCase() === expected.toLowerCase();
  return typeof entryValue === "string" && entryValue.toLowerCase() === expected.toLowerCase();
}

function getCaseInsensitive(object: Record<string, unknown>, key: string): unknown {
  if (key in object) return object[key];
  const found = Object.keys(object).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : object[found];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Reads the value a path points at in a SCIM resource; undefined when absent. */
export function readScimPath(resource: Readonly<Record<string, unknown>>, path: ScimPath): unknown {
  const container =
    path.schema === null
      ? resource
      : asRecord(getCaseInsensitive(resource as Record<string, unknown>, path.schema));
  if (!container) return undefined;
  const top = getCaseInsensitive(container, path.attribute);
  if (path.filter) {
    if (!Array.isArray(top)) return undefined;
    const filter = path.filter;
    const entry = top
      .map(asRecord)
      .find(
        (candidate) =>
          candidate && filterValueMatches(getCaseInsensitive(candidate, filter.attribute), filter.value),
      );
    if (!entry) return undefined;
    return path.subAttribute ? getCaseInsensitive(entry, path.subAttribute) : entry;
  }
  if (path.subAttribute) {
    const record = asRecord(top);
    return record ? getCaseInsensitive(record, path.subAttribute) : undefined;
  }
  return top;
}

/** Writes a value at a path, creating containers and the filtered multi-valued entry as needed. */
export function writeScimPath(resource: Record<string, unknown>, path: ScimPath, value: unknown): void {
  let container: Record<string, unknown> = resource;
  if (path.schema !== null) {
    const existing = asRecord(resource[path.schema]);
    container = existing ?? {};
    resource[path.schema] = container;
  }
  if (path.filter) {
    const list = Array.isArray(container[path.attribute]) ? (container[path.attribute] as unknown[]) : [];
    container[path.attribute] = list;
    const filter = path.filter;
    let entry = list
      .map(asRecord)
      .find((candidate) => candidate && filterValueMatches(candidate[filter.attribute], filter.value));
    if (!entry) {
      const filterValue =
        filter.attribute.toLowerCase() === "primary" ? filter.value.toLowerCase() === "true" : filter.value;
      entry = { [filter.attribute]: filterValue };
      list.push(entry);
    }
    if (path.subAttribute) entry[path.subAttribute] = value;
    return;
  }
  if (path.subAttribute) {
    const existing = asRecord(container[path.attribute]);
    const record = existing ?? {};
    record[path.subAttribute] = value;
    container[path.attribute] = record;
    return;
  }
  container[path.attribute] = value;
}
