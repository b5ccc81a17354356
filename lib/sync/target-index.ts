import { parseScimPath, type ScimPath } from "../mapping/scim-path";
import type { SnapshotResourceType } from "../scim/snapshot-reader";

/**
 * Matching against a snapshot of the target: the keys each listed resource is indexed by, the same
 * normalisation for an object's matching candidates, and the port the engine looks them up through
 * (implemented over PostgreSQL in lib/server/target-snapshot-store.ts).
 *
 * A key mirrors what `GET /Users?filter=<attribute> eq "<value>"` would match on the target: attributes
 * RFC 7643 declares caseExact false (userName, emails, displayName) are lower-cased on both sides, the
 * case-exact ones (id, externalId) are kept as they are. Only the attributes below are indexed; a
 * matching attribute outside them cannot be answered from a snapshot (see `normaliseCandidate`).
 */

export interface SnapshotKey {
  /** Canonical attribute path: id, userName, externalId, emails.value, emails[type eq "work"].value, displayName. */
  attribute: string;
  value: string;
}

export interface MatchingCandidate {
  targetAttribute: string;
  value: string;
}

const foldCase = (value: string): string => value.toLowerCase();

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** SCIM attribute names are case-insensitive; targets do not always echo our spelling. */
function read(resource: Readonly<Record<string, unknown>>, name: string): unknown {
  if (name in resource) return resource[name];
  const lower = name.toLowerCase();
  const key = Object.keys(resource).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : resource[key];
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

const mapText = (value: unknown, map: (text: string) => string): string | undefined => {
  const found = text(value);
  return found === undefined ? undefined : map(found);
};

export const emailTypeKey = (type: string): string => `emails[type eq "${foldCase(type)}"].value`;

/** Every key a listed resource can be matched by, without duplicates. */
export function snapshotKeys(
  resourceType: SnapshotResourceType,
  resource: Readonly<Record<string, unknown>>,
): SnapshotKey[] {
  const keys = new Map<string, SnapshotKey>();
  const add = (attribute: string, value: string | undefined) => {
    if (value === undefined) return;
    keys.set(`${attribute}\u0000${value}`, { attribute, value });
  };
  add("id", text(read(resource, "id")));
  add("externalId", text(read(resource, "externalId")));
  if (resourceType === "Group") {
    add("displayName", mapText(read(resource, "displayName"), foldCase));
    return [...keys.values()];
  }
  add("userName", mapText(read(resource, "userName"), foldCase));
  const emails = read(resource, "emails");
  for (const entry of Array.isArray(emails) ? emails : []) {
    const email = asRecord(entry);
    const value = email && text(read(email, "value"));
    if (!email || value === undefined) continue;
    add("emails.value", foldCase(value));
    const type = text(read(email, "type"));
    if (type !== undefined) add(emailTypeKey(type), foldCase(value));
  }
  return [...keys.values()];
}

function isPlain(path: ScimPath, name: string): boolean {
  return (
    path.schema === null &&
    path.filter === null &&
    path.subAttribute === null &&
    path.attribute.toLowerCase() === name.toLowerCase()
  );
}

/**
 * The key a matching candidate looks up, normalised like `snapshotKeys`; null when the snapshot does not
 * index that attribute (the engine then matches that object with filter queries).
 */
export function normaliseCandidate(
  resourceType: SnapshotResourceType,
  candidate: MatchingCandidate,
): SnapshotKey | null {
  let path: ScimPath;
  try {
    path = parseScimPath(candidate.targetAttribute);
  } catch {
    return null;
  }
  if (candidate.value === "") return null;
  if (isPlain(path, "id")) return { attribute: "id", value: candidate.value };
  if (isPlain(path, "externalId")) return { attribute: "externalId", value: candidate.value };
  if (resourceType === "Group") {
    return isPlain(path, "displayName")
      ? { attribute: "displayName", value: foldCase(candidate.value) }
      : null;
  }
  if (isPlain(path, "userName")) return { attribute: "userName", value: foldCase(candidate.value) };
  const emails =
    path.schema === null &&
    path.attribute.toLowerCase() === "emails" &&
    (path.subAttribute === null || path.subAttribute.toLowerCase() === "value");
  if (!emails) return null;
  if (path.filter === null) return { attribute: "emails.value", value: foldCase(candidate.value) };
  if (path.filter.attribute.toLowerCase() !== "type") return null;
  return { attribute: emailTypeKey(path.filter.value), value: foldCase(candidate.value) };
}

/**
 * A listed resource as the snapshot keeps it: big multi-valued references (a group's members, a user's
 * groups) are dropped, they are neither matched on nor needed to compute an update.
 */
export function compactResource(resource: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const compact: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(resource)) {
    const lower = name.toLowerCase();
    if (lower === "members" || lower === "groups") continue;
    compact[name] = value;
  }
  return compact;
}

/** Whether a listed resource is active: a user's `active` (Boolean or "True"/"False"); groups are null. */
export function resourceActive(
  resourceType: SnapshotResourceType,
  resource: Readonly<Record<string, unknown>>,
): boolean | null {
  if (resourceType === "Group") return null;
  const active = read(resource, "active");
  if (typeof active === "boolean") return active;
  if (typeof active === "string") return active.toLowerCase() !== "false";
  // RFC 7643 leaves active optional; a user without it has not been deactivated.
  return true;
}

export type IndexedLookup =
  | {
      status: "found";
      resource: Readonly<Record<string, unknown>> & { id: string };
      /** The candidate that matched, e.g. `userName eq "zoë@contoso.example"`, for the cycle's log. */
      matchedBy: string;
    }
  /** No indexed candidate matched; the object does not exist in the target (as of the snapshot). */
  | { status: "absent"; tried: string[] }
  /** More than one target resource matched the first candidate that matched anything: DuplicateTargetEntries. */
  | { status: "ambiguous"; matchedBy: string; targetIds: string[] }
  /** A candidate the snapshot does not index came before any match: match this object with filter queries. */
  | { status: "unindexed"; targetAttribute: string };

/** What the engine needs from a target snapshot; reliable snapshots only (see the store's doc). */
export interface TargetIndex {
  readonly snapshotId: string;
  readonly resourceType: SnapshotResourceType;
  /**
   * For each object, its matching candidates in precedence order; the answer for each, in the same order,
   * from one round trip. Like Entra's per-attribute filter queries: the first candidate that matches
   * anything decides (one resource: found; several: ambiguous), later candidates are not consulted.
   */
  lookup(candidates: readonly (readonly MatchingCandidate[])[]): Promise<IndexedLookup[]>;
  /** The linked target ids that are not in the snapshot: the linked Dialpad object was deleted. */
  targetIdsMissing(linkedTargetIds: readonly string[]): Promise<string[]>;
  /** Adds a resource this cycle created, so a later object with the same key matches it. */
  recordCreated(resource: Readonly<Record<string, unknown>> & { id: string }): Promise<void>;
}

export const describeCandidate = (candidate: MatchingCandidate): string =>
  `${candidate.targetAttribute} eq "${candidate.value}"`;
