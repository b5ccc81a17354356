import type {
  ModifiedProperty,
  ProvisioningAction,
  ProvisioningStatus,
  ProvisioningStep,
} from "./on-demand-types";
import type { ObjectType } from "./plan";
import type { ObjectLinkRecord } from "./ports";

export interface EscrowRecord {
  objectType: ObjectType;
  sourceId: string;
  kind: "object" | "reference";
  attempts: number;
  nextRetryAt: Date;
}

export interface HeldChangeRecord {
  objectType: ObjectType;
  sourceId: string;
  targetId: string;
  action: "Disable" | "Delete";
  displayName: string | null;
}

/** One provisioningObjectSummary; cycle, job, connection and initiator are added by the store. */
export interface CycleLogEntry {
  changeId: string;
  action: ProvisioningAction;
  status: ProvisioningStatus;
  objectType: ObjectType;
  sourceId: string | null;
  sourceDisplayName: string | null;
  targetId: string | null;
  targetDisplayName: string | null;
  modifiedProperties: ModifiedProperty[];
  steps: ProvisioningStep[];
  errorCode?: string;
  errorCategory?: string;
  errorReason?: string;
  recommendedAction?: string;
  durationMs: number;
}

/** What a cycle persists, implemented over PostgreSQL in lib/server/cycle-store.ts. */
export interface CycleStore {
  /** The links of these objects; a cycle never loads the whole link store at once. */
  loadLinksFor(objectType: ObjectType, sourceIds: readonly string[]): Promise<ObjectLinkRecord[]>;
  /** Links in source-id order after `after` (null: from the start), at most `limit`. */
  pageLinks(objectType: ObjectType, after: string | null, limit: number): Promise<ObjectLinkRecord[]>;
  saveLink(link: ObjectLinkRecord): Promise<void>;
  removeLink(objectType: ObjectType, sourceId: string): Promise<void>;
  /** Group memberships this connection exported to Dialpad (source ids). */
  /** The exported members of these groups, or of every group. */
  loadMemberships(
    groupSourceIds?: readonly string[],
  ): Promise<{ groupSourceId: string; userSourceId: string }[]>;
  addMemberships(
    groupSourceId: string,
    members: { userSourceId: string; userTargetId: string }[],
  ): Promise<void>;
  removeMemberships(groupSourceId: string, userSourceIds: readonly string[]): Promise<void>;
  /** Every membership of a user or group that no longer exists in Dialpad. */
  removeMembershipsOf(objectType: ObjectType, sourceId: string): Promise<void>;
  loadEscrows(): Promise<EscrowRecord[]>;
  /** Records one more failed attempt; returns the attempts so far. */
  escrow(entry: {
    objectType: ObjectType;
    sourceId: string;
    kind: "object" | "reference";
    errorCode: string;
    error: string;
  }): Promise<number>;
  clearEscrow(objectType: ObjectType, sourceId: string, kind: "object" | "reference"): Promise<void>;
  loadHeldChanges(): Promise<HeldChangeRecord[]>;
  /** The held deletions are the latest cycle's: earlier holds were re-evaluated by it. */
  replaceHeldChanges(held: readonly HeldChangeRecord[]): Promise<void>;
  writeLogs(entries: readonly CycleLogEntry[]): Promise<void>;
  /** Links and the log entries of the same objects, in one write (a unit records its objects in batches). */
  record(batch: { links: readonly ObjectLinkRecord[]; logs: readonly CycleLogEntry[] }): Promise<void>;
  progress(completedUnits: number, totalUnits: number): Promise<void>;
  stopRequested(): Promise<boolean>;
}
