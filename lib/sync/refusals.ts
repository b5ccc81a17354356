import { parseScimPath, scimPathKey, ScimPathError, type TAttributeMapping } from "../mapping";
import { isScimError, type ScimPatchOperation } from "../scim";
import type { ObjectType } from "./plan";

/*
 * Attributes the target refuses. A strict SCIM server answers a write that touches an attribute it does
 * not support with 400 for the whole request; Entra then escrows the object, so a user disabled in Entra
 * stays active in the target because of an unrelated attribute. Here the refused attribute is isolated:
 * the rest of the change (always `active:false`, always a delete) is sent, the refusal is recorded, and
 * the attribute is left out of later changes until its mapping changes or the refusal is a day old.
 */

/** The SCIM error types (RFC 7644 §3.12) with which a target refuses an attribute rather than a request. */
const REFUSAL_SCIM_TYPES = new Set(["invalidpath", "invalidvalue", "notarget", "mutability"]);

/** The attribute (by key, see attributeKey) and how the target refused it. */
export interface AttributeRefusal {
  /** The target attribute as the mapping names it, e.g. `urn:…:enterprise:2.0:User:officeName`. */
  attribute: string;
  scimType: string | null;
  detail: string;
  /** The request that was refused, "PATCH https://…/Users/123". */
  request: string;
  /** The target does not support the attribute (left out for every object), not just this object's value. */
  attributeWide: boolean;
  /** Refused before: left out of this object's change without asking the target again. */
  known?: boolean;
}

/** What the engine knows and learns about refused attributes (lib/server/refused-attributes.ts keeps it). */
export interface RefusalRegistry {
  isRefused(objectType: ObjectType, attribute: string): boolean;
  /**
   * Records that the attribute was refused in (or, when `known`, left out of) a change of this object.
   * Attribute-wide refusals are remembered for the connection; a refused value is only this object's.
   */
  record(objectType: ObjectType, sourceId: string, refusal: AttributeRefusal): Promise<void>;
}

/** The same SCIM attribute compares equal however it is spelled (case, core schema URN or not). */
export function attributeKey(attribute: string): string {
  try {
    return scimPathKey(parseScimPath(attribute));
  } catch (error) {
    if (error instanceof ScimPathError) return attribute.trim().toLowerCase();
    throw error;
  }
}

/**
 * Whether an error is the target refusing what a write carries (400 with a scimType of RFC 7644 naming an
 * attribute or value, or a 400 without scimType whose detail talks about an attribute or schema) rather
 * than the request as a whole being wrong or the target failing.
 */
export function isAttributeRefusal(error: unknown): boolean {
  if (!isScimError(error) || error.status !== 400) return false;
  if (error.scimType) return REFUSAL_SCIM_TYPES.has(error.scimType.toLowerCase());
  return /attribute|schema|path/i.test(error.detail);
}

/**
 * The attributes among `attributes` that the error's detail names. Longer names are tried first so that
 * `name.givenName` wins over `name`; empty when the detail names none of them (then the caller tries the
 * attributes one by one).
 */
export function attributesNamedIn(detail: string, attributes: readonly string[]): string[] {
  const text = detail.toLowerCase();
  const named: string[] = [];
  const spellings = attributes
    .flatMap((attribute) => spellingsOf(attribute).map((spelling) => ({ attribute, spelling })))
    .sort((a, b) => b.spelling.length - a.spelling.length);
  let remaining = text;
  for (const { attribute, spelling } of spellings) {
    const at = findWord(remaining, spelling);
    if (at < 0) continue;
    if (!named.includes(attribute)) named.push(attribute);
    // Blank the match out so `name` is not found again inside `name.givenName`.
    remaining = remaining.slice(0, at) + " ".repeat(spelling.length) + remaining.slice(at + spelling.length);
  }
  return named;
}

function spellingsOf(attribute: string): string[] {
  const lower = attribute.trim().toLowerCase();
  try {
    const path = parseScimPath(attribute);
    const bare = `${path.attribute}${path.subAttribute ? `.${path.subAttribute}` : ""}`.toLowerCase();
    return [...new Set([lower, path.schema ? `${path.schema.toLowerCase()}:${bare}` : bare, bare])];
  } catch {
    return [lower];
  }
}

/** Index of `word` in `text` where it is not part of a longer name; -1 when absent. */
function findWord(text: string, word: string): number {
  const isNameChar = (char: string | undefined) => char !== undefined && /[a-z0-9_$]/i.test(char);
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
    if (!isNameChar(text[at - 1]) && !isNameChar(text[at + word.length])) return at;
  }
  return -1;
}

/** PATCH operations without those on refused attributes; `active` is never left out. */
export function operationsWithout(
  operations: readonly ScimPatchOperation[],
  refused: (attribute: string) => boolean,
): { kept: ScimPatchOperation[]; leftOut: ScimPatchOperation[] } {
  const kept: ScimPatchOperation[] = [];
  const leftOut: ScimPatchOperation[] = [];
  for (const operation of operations) {
    const path = operation.path;
    if (path && !isActivePath(path) && refused(path)) leftOut.push(operation);
    else kept.push(operation);
  }
  return { kept, leftOut };
}

/** Deprovisioning first: a change that disables a user sends `active` before anything else. */
export function isActivePath(path: string): boolean {
  return attributeKey(path) === attributeKey("active");
}

/**
 * The mappings an engine should still export: those of refused target attributes are left out, except
 * matching attributes (an object must still be found) and `active`.
 */
export function mappingsWithout<T extends Pick<TAttributeMapping, "target" | "matchingPriority">>(
  mappings: readonly T[],
  refused: (attribute: string) => boolean,
): T[] {
  return mappings.filter(
    (mapping) => mapping.matchingPriority > 0 || isActivePath(mapping.target) || !refused(mapping.target),
  );
}

/** A POST body without the refused attributes (core, sub-attribute, extension or filtered entry). */
export function resourceWithout(
  resource: Readonly<Record<string, unknown>>,
  attributes: readonly string[],
): Record<string, unknown> {
  const copy = structuredClone(resource) as Record<string, unknown>;
  for (const attribute of attributes) {
    let path;
    try {
      path = parseScimPath(attribute);
    } catch {
      continue;
    }
    const holder = path.schema ? asRecord(findKey(copy, path.schema)) : copy;
    if (!holder) continue;
    const key = keyOf(holder, path.attribute);
    if (key === undefined) continue;
    if (path.filter) {
      const entries = holder[key];
      if (!Array.isArray(entries)) continue;
      const filter = path.filter;
      holder[key] = entries.filter((entry) => {
        const value = asRecord(entry)?.[keyOf(asRecord(entry) ?? {}, filter.attribute) ?? ""];
        return String(value).toLowerCase() !== filter.value.toLowerCase();
      });
      if ((holder[key] as unknown[]).length === 0) delete holder[key];
      continue;
    }
    if (path.subAttribute) {
      const complex = asRecord(holder[key]);
      const sub = complex && keyOf(complex, path.subAttribute);
      if (complex && sub !== undefined) delete complex[sub];
      continue;
    }
    delete holder[key];
  }
  return copy;
}

function findKey(object: Record<string, unknown>, name: string): unknown {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
}

function keyOf(object: Record<string, unknown>, name: string): string | undefined {
  return Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** What an admin reads about a refused attribute, on the log entry and on the connection. */
export function refusalAdvice(attribute: string): string {
  return `Remove the mapping of ${attribute} in Mappings, or ask Dialpad to support it. Until then it is left out of every change; the rest is sent.`;
}
