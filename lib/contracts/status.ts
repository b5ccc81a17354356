import { z } from "zod";
import { ZJsonValue, ZTimestamp } from "./common";

/** Provisioning status and its controls: Start, Stop, Restart (Entra's reset criteria), Allow deletes. */

export const ZStatusCode = z.enum(["NotConfigured", "NotRun", "Active", "Paused", "Quarantine"]);
export type StatusCode = z.infer<typeof ZStatusCode>;

export const COUNT_FIELDS = [
  "created",
  "updated",
  "disabled",
  "deleted",
  "skipped",
  "failed",
  "held",
] as const;
export type CountField = (typeof COUNT_FIELDS)[number];

/** A cycle's counts as stored: cycles recorded by older versions may lack newer fields, so each is optional. */
const ZCycleCounts = z.record(z.string(), z.number()).nullable();

const ZCurrentCycle = z.object({
  id: z.uuid(),
  type: z.string(),
  startedAt: ZTimestamp,
  stopRequested: z.boolean(),
  progress: z.object({
    completedUnits: z.number().int().nullable(),
    totalUnits: z.number().int().nullable(),
    units: z.string(),
  }),
});

export const ZStatus = z.object({
  code: ZStatusCode,
  provisioningEnabled: z.boolean(),
  paused: z.boolean(),
  quarantine: z
    .object({
      reason: z.string(),
      currentBegan: ZTimestamp.nullable(),
      seriesBegan: ZTimestamp.nullable(),
      nextAttempt: ZTimestamp.nullable(),
      seriesCount: z.number().int(),
      error: ZJsonValue,
    })
    .nullable(),
  currentCycle: ZCurrentCycle.nullable(),
  lastCycle: z
    .object({
      id: z.uuid(),
      type: z.string(),
      status: z.string(),
      dryRun: z.boolean(),
      trigger: z.string(),
      startedAt: ZTimestamp,
      endedAt: ZTimestamp.nullable(),
      completedUnits: z.number().int().nullable(),
      totalUnits: z.number().int().nullable(),
      counts: ZCycleCounts,
      /** True while the cycle runs: `counts` are then what its provisioning log holds so far. */
      countsSoFar: z.boolean(),
      error: ZJsonValue,
      /** Users Entra ID returned as assigned, against the last accepted cycle's (source-shrink guard). */
      sourceUsers: z
        .object({ read: z.number().int().nullable(), before: z.number().int().nullable(), held: z.boolean() })
        .optional(),
    })
    .nullable(),
  lastSuccessfulCycle: z
    .object({ id: z.uuid(), endedAt: ZTimestamp.nullable(), counts: ZCycleCounts })
    .nullable(),
  heldChanges: z.object({
    count: z.number().int(),
    sample: z.array(
      z.object({
        objectType: z.string(),
        sourceId: z.string(),
        action: z.string(),
        displayName: z.string().nullable(),
      }),
    ),
  }),
  escrows: z.object({ objects: z.number().int(), references: z.number().int() }),
  /** Attributes Dialpad refuses, left out of every change. */
  refusedAttributes: z.array(
    z.object({
      objectType: z.string(),
      attribute: z.string(),
      scimType: z.string().nullable(),
      detail: z.string(),
      request: z.string(),
      firstRefusedAt: ZTimestamp,
      lastRefusedAt: ZTimestamp,
      affectedObjects: z.number().int(),
      summary: z.string(),
      recommendedAction: z.string(),
    }),
  ),
  synchronizedEntryCountByType: z.record(z.string(), z.number().int()),
  nextCycleAt: ZTimestamp.nullable(),
  /** The schedule, and in continuous mode what the polls of Graph's change feeds last saw. */
  schedule: z.object({
    mode: z.enum(["continuous", "interval"]),
    lastPollAt: ZTimestamp.nullable(),
    /** Why the last poll could not read Graph (throttled, unavailable); it is tried again later. */
    lastPollError: z.string().nullable(),
    nextPollAt: ZTimestamp.nullable(),
    lastChange: z
      .object({
        seenAt: ZTimestamp,
        /** When the cycle it queued wrote its last change to Dialpad; null while it runs, or when it wrote nothing. */
        reachedDialpadAt: ZTimestamp.nullable(),
        writes: z.number().int(),
      })
      .nullable(),
  }),
  jobId: z.string().nullable(),
  cycleId: z.uuid().nullable(),
  /** Set when the last cycle failed because a mapping reads an attribute Graph does not have. */
  configurationFailure: z
    .object({
      category: z.literal("configuration"),
      message: z.string(),
      attribute: z.string(),
      recommendedAction: z.string(),
      field: z.string().optional(),
    })
    .nullable(),
});
export type Status = z.infer<typeof ZStatus>;
export type CurrentCycle = z.infer<typeof ZCurrentCycle>;

export const ZRestartCriterion = z.enum(["Watermark", "Escrows", "QuarantineState", "Full", "ForceDeletes"]);
export type RestartCriterion = z.infer<typeof ZRestartCriterion>;

export const ZRestart = z
  .object({
    /**
     * Entra's reset criteria. Empty (the portal's Restart): clear the watermark, escrows and quarantine,
     * keep the links. Full also breaks links; ForceDeletes executes deletions held by the threshold.
     */
    criteria: z.array(ZRestartCriterion).max(5).default([]),
  })
  .strict();

/** What Start and Restart did with the schedule: queued a cycle, moved the next one to now, or found one running. */
const ZQueueOutcome = z.enum(["queued", "moved-to-now", "already-running", "missing"]);

export const ZStartResult = z.object({ outcome: ZQueueOutcome, cycleId: z.string().nullable().optional() });

export const ZStopResult = z.object({
  stoppingCycleId: z.string().nullable(),
  cancelledUnits: z.number().int(),
});

export const ZRestartResult = z.object({
  applied: z.array(ZRestartCriterion),
  deletesExecuted: z.number().int(),
  heldDiscarded: z.number().int(),
  linksRemoved: z.number().int(),
  outcome: ZQueueOutcome,
});

export const ZAllowDeletesResult = z.object({ executed: z.number().int(), failed: z.number().int() });
