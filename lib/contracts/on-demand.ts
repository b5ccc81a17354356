import { z } from "zod";
import { ZJsonValue, ZTimestamp } from "./common";

/**
 * Provision on demand (Entra's provisionOnDemand), "Why?" for one user, and the replay of a failed
 * change: all three answer with the per-object result Entra's provisioningObjectSummary has.
 */

const ZObjectId = z.string().trim().min(1, "give the object id").max(200);

/** Entra's provisionOnDemand subject: a user, or a group with (at most five of) its members in `links`. */
export const ZOnDemandSubject = z.discriminatedUnion("objectTypeName", [
  z.object({ objectId: ZObjectId, objectTypeName: z.literal("User") }).strict(),
  z
    .object({
      objectId: ZObjectId,
      objectTypeName: z.literal("Group"),
      links: z
        .object({
          members: z
            .array(z.object({ objectId: ZObjectId, objectTypeName: z.literal("User") }).strict())
            .max(5, "provision at most 5 members with a group")
            .refine(
              (members) => new Set(members.map((member) => member.objectId)).size === members.length,
              "each member can be picked once",
            ),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);
export type OnDemandSubject = z.infer<typeof ZOnDemandSubject>;

export const ZProvisionOnDemand = z
  .object({
    subjects: z.array(ZOnDemandSubject).length(1, "provision one user, or one group, at a time"),
  })
  .strict();

export const ZProvisioningAction = z.enum(["Create", "Update", "Delete", "Disable", "StagedDelete", "Other"]);
export const ZProvisioningStatus = z.enum(["Success", "Failure", "Skipped", "Warning"]);

export const ZProvisioningStep = z.object({
  name: z.string(),
  type: z.enum(["Import", "Scoping", "Matching", "Processing", "ReferenceResolution", "Export"]),
  status: z.enum(["success", "failure", "skipped", "warning"]),
  description: z.string(),
  timestamp: ZTimestamp,
  details: z.record(z.string(), ZJsonValue),
});
export type ProvisioningStep = z.infer<typeof ZProvisioningStep>;

export const ZModifiedProperty = z.object({
  displayName: z.string(),
  oldValue: ZJsonValue,
  newValue: ZJsonValue,
});
export type ModifiedProperty = z.infer<typeof ZModifiedProperty>;

const ZIdentity = z.object({
  id: z.string().nullable(),
  type: z.enum(["User", "Group"]),
  displayName: z.string().nullable(),
  details: z.record(z.string(), ZJsonValue).optional(),
});

export const ZOnDemandResult = z.object({
  action: ZProvisioningAction,
  status: ZProvisioningStatus,
  changeId: z.string(),
  logId: z.string().nullable(),
  startTime: ZTimestamp,
  endTime: ZTimestamp,
  reportableIdentifier: z.string().nullable(),
  sourceIdentity: ZIdentity,
  targetIdentity: ZIdentity,
  sourceSystem: z.object({ name: z.string() }),
  targetSystem: z.object({ name: z.string() }),
  modifiedProperties: z.array(ZModifiedProperty),
  provisioningSteps: z.array(ZProvisioningStep),
  statusInfo: z.object({
    status: ZProvisioningStatus,
    errorCode: z.string().optional(),
    reason: z.string().optional(),
    additionalDetails: z.string().optional(),
    errorCategory: z.enum(["failure", "nonServiceFailure", "success"]).optional(),
    recommendedAction: z.string().optional(),
  }),
});
export type OnDemandResult = z.infer<typeof ZOnDemandResult>;

/** A user's result, or a group's with the results of the members provisioned with it. */
export const ZOnDemandResponse = ZOnDemandResult.extend({
  members: z.array(ZOnDemandResult).optional(),
  /** The worker job that ran it (its row keeps the same result). */
  jobId: z.uuid(),
});
export type OnDemandResponse = z.infer<typeof ZOnDemandResponse>;

/** The retry of a failed log entry: an on-demand result linked to the entry it retried. */
export const ZReplayResult = ZOnDemandResponse.extend({ replayOf: z.uuid() });

/** What an expression exports: the shapes a SCIM attribute value can take. */
export const ZExportedValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.string()),
  z.array(z.record(z.string(), z.union([z.string(), z.boolean()]))),
  z.null(),
]);

export const ZAttributeExplanation = z.object({
  target: z.string(),
  type: z.string(),
  /** The source attribute, constant or expression as configured. */
  source: z.string(),
  apply: z.string(),
  matchingPriority: z.number().int(),
  outcome: z.enum(["exports", "null", "ignored", "notOnUpdate", "error"]),
  /** What is sent ("[Redact]" when the mapping redacts it); absent when nothing flows. */
  value: ZExportedValue.optional(),
  usedDefault: z.boolean(),
  message: z.string().optional(),
});
export type AttributeExplanation = z.infer<typeof ZAttributeExplanation>;

/** "Why?" for one user: every mapping, scoping clause and the match, and what the next cycle would do. */
export const ZUserExplanation = z.object({
  /** The user as the mappings see it (Entra attribute names), null when it could not be read. */
  source: z.record(z.string(), ZJsonValue).nullable(),
  operation: z.enum(["create", "update"]),
  attributes: z.array(ZAttributeExplanation),
  decision: ZOnDemandResult,
});
export type UserExplanation = z.infer<typeof ZUserExplanation>;
