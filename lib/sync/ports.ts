import type { ScimPatchOperation, ScimResourceInput } from "../scim";
import type { ModifiedProperty } from "./on-demand-types";

/** What the engine needs from the mapping and scoping module for one object type. */
export interface ObjectMappingEngine {
  /** Entra attribute names the mapping and the scoping filter read (Graph $select). */
  sourceAttributes(): string[];
  /** Scoping filter result, with each clause, so logs can say why an object is out of scope. */
  scope(source: Record<string, unknown>): ScopeEvaluation;
  /** Matching attribute values in precedence order; empty values are left out. */
  matching(source: Record<string, unknown>): { targetAttribute: string; value: string }[];
  createResource(source: Record<string, unknown>): {
    resource: ScimResourceInput;
    exported: ModifiedProperty[];
  };
  patch(
    source: Record<string, unknown>,
    current: Readonly<Record<string, unknown>>,
  ): { operations: ScimPatchOperation[]; modified: ModifiedProperty[] };
  /** Stable hash of what would be exported: equal hash means nothing to send. */
  desiredHash(source: Record<string, unknown>): string;
}

export interface ScopeEvaluation {
  inScope: boolean;
  groups: {
    name: string;
    matched: boolean;
    clauses: { attribute: string; operator: string; values: string[]; actual: unknown; matched: boolean }[];
  }[];
}

export interface ObjectLinkRecord {
  objectType: "User" | "Group";
  sourceId: string;
  targetId: string;
  displayName: string | null;
  exportedHash: string | null;
  active: boolean;
}

export interface LinkStore {
  get(objectType: "User" | "Group", sourceId: string): Promise<ObjectLinkRecord | null>;
  save(link: ObjectLinkRecord): Promise<void>;
  remove(objectType: "User" | "Group", sourceId: string): Promise<void>;
}
