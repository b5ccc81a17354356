/**
 * SCIM filter builders (RFC 7644 §3.4.2.2). Entra only ever sends `eq` joined by `and`, so that is all
 * we build. Values are rendered as JSON literals: a SCIM compValue string is a JSON string, which is
 * exactly what JSON.stringify produces (quotes and backslashes escaped, control characters encoded).
 */

declare const filterBrand: unique symbol;

/** A filter expression made by `eq`/`and`; call sites cannot build one by string concatenation. */
export interface ScimFilter {
  readonly expression: string;
  readonly [filterBrand]: true;
}

export type ScimFilterValue = string | number | boolean | null;

// attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.10). Restricting the attribute to this grammar
// keeps a caller-supplied attribute name from smuggling in operators.
const ATTRIBUTE_PATH = /^(?:urn:[A-Za-z0-9.:_-]+:)?[A-Za-z][A-Za-z0-9_$-]*(?:\.[A-Za-z][A-Za-z0-9_$-]*)?$/;

function makeFilter(expression: string): ScimFilter {
  return { expression } as ScimFilter;
}

export function isValidAttributePath(attribute: string): boolean {
  return ATTRIBUTE_PATH.test(attribute);
}

export function renderFilterValue(value: ScimFilterValue): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`SCIM filter value must be a finite number, got ${value}`);
  }
  return JSON.stringify(value);
}

export function eq(attribute: string, value: ScimFilterValue): ScimFilter {
  if (!isValidAttributePath(attribute)) {
    throw new TypeError(`Not a SCIM attribute path: ${JSON.stringify(attribute)}`);
  }
  return makeFilter(`${attribute} eq ${renderFilterValue(value)}`);
}

export function and(...filters: ScimFilter[]): ScimFilter {
  if (filters.length === 0) throw new TypeError("and() needs at least one filter");
  // `and` is associative and we never build `or`/`not`, so no grouping parentheses are needed.
  return makeFilter(filters.map((filter) => filter.expression).join(" and "));
}
