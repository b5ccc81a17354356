import crypto from "node:crypto";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import { isReferenceMapping, mappingEngineFor } from "../sync/mapping-adapter";
import { loadRefusalRegistry } from "./refused-attributes";
import { nameGroupMembers } from "../sync/on-demand-result";
import type { OnDemandResult } from "../sync/on-demand-types";
import { NOT_A_DIRECT_MEMBER, processGroup } from "../sync/process-group";
import { processUser } from "../sync/process-user";
import { getConnection } from "./connections";
import { prismaCycleStore } from "./cycle-store";
import { prismaLinkStore } from "./link-store";
import { loadMappingConfig } from "./mappings";
import { graphClientFor, scimClientFor } from "./peers";
import { z } from "zod";
import { defineJobKind } from "../jobs/kind";
import { enqueueJob } from "../jobs/store";
import { JobWaitTimeoutError, waitForJob } from "../jobs/wait";
import { AppError } from "./errors";

/** Provision on demand (and Replay): one user, or a group with up to five members, on a worker. */
export const onDemandJob = defineJobKind(
  "on-demand",
  z
    .object({
      connectionId: z.string().uuid(),
      subjects: z
        .array(
          z
            .object({
              objectId: z.string().min(1),
              objectTypeName: z.enum(["User", "Group"]),
              links: z
                .object({
                  members: z
                    .array(
                      z.object({ objectId: z.string().min(1), objectTypeName: z.literal("User") }).strict(),
                    )
                    .max(5),
                })
                .strict()
                .optional(),
            })
            .strict(),
        )
        .length(1),
      initiatedBy: z.string().min(1),
      /** A Replay: the failed log entry this run retries. */
      replayOf: z.string().uuid().optional(),
    })
    .strict(),
);

export interface OnDemandSubject {
  objectId: string;
  objectTypeName: "User" | "Group";
  /** For a group: the members (at most five) to provision with it, as Entra's `links.members`. */
  links?: { members: { objectId: string; objectTypeName: "User" }[] };
}

/** A user's result, or a group's with the results of the members provisioned with it. */
export type OnDemandResponse = OnDemandResult & { members?: OnDemandResult[] };

/**
 * Runs on a worker: provisions the requested user, or group with up to five members, now, outside the
 * schedule, through the same per-object pipeline a cycle uses, and records every object it touched in the
 * provisioning log like any other change.
 */
export async function runOnDemand(
  db: PrismaClient,
  box: SecretBox,
  input: {
    connectionId: string;
    subject: OnDemandSubject;
    initiatedBy: string;
    jobId: string | null;
    /** The failed log entry this run retries (Replay); its own entry links back to it. */
    replayOf?: string;
  },
): Promise<OnDemandResponse> {
  const connection = await getConnection(db, input.connectionId);
  const config = loadMappingConfig(connection.mappings);
  const graph = graphClientFor(connection, box);
  const scim = await scimClientFor(connection, box);
  const links = prismaLinkStore(db, connection.id);
  const store = prismaCycleStore(db, { connectionId: connection.id, cycleId: null, jobId: input.jobId });
  const scope = connection.scope === "All" ? "All" : "AssignedOnly";
  const refusals = await loadRefusalRegistry(db, connection.id, config);
  const record = async (result: OnDemandResult, started: number, replayOf?: string) => ({
    ...result,
    logId: await writeLog(db, { ...input, replayOf }, result, Date.now() - started),
  });
  const provisionUser = async (objectId: string) => {
    const started = Date.now();
    const result = await processUser(objectId, {
      graph,
      scim,
      links,
      store,
      mapping: mappingEngineFor(config, "User", { refusals }),
      refusals,
      skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
      servicePrincipalId: connection.graphServicePrincipalId,
      scope,
      actions: config.actions.User,
      changeId: crypto.randomUUID(),
    });
    return record(result, started, objectId === input.subject.objectId ? input.replayOf : undefined);
  };

  if (input.subject.objectTypeName === "User") return provisionUser(input.subject.objectId);

  const started = Date.now();
  const { group, members } = await processGroup(
    input.subject.objectId,
    (input.subject.links?.members ?? []).map((member) => member.objectId),
    {
      graph,
      scim,
      links,
      store,
      skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
      mapping: mappingEngineFor(config, "Group", { withoutReferences: true }),
      enabled: config.groups.enabled,
      actions: config.actions.Group,
      provisionMembers: config.groups.attributeMappings.some((mapping) => isReferenceMapping(mapping.target)),
      servicePrincipalId: connection.graphServicePrincipalId,
      scope,
      changeId: crypto.randomUUID(),
      provisionMember: provisionUser,
    },
  );
  return { ...(await record(nameGroupMembers(group, members), started, input.replayOf)), members };
}

async function writeLog(
  db: PrismaClient,
  input: { connectionId: string; initiatedBy: string; jobId: string | null; replayOf?: string },
  result: OnDemandResult,
  durationMs: number,
): Promise<string | null> {
  // A picked user who is not a direct member was not provisioned: nothing happened worth a log entry.
  if (result.statusInfo.errorCode === NOT_A_DIRECT_MEMBER) return null;
  const log = await db.provisioningLog.create({
    data: {
      connectionId: input.connectionId,
      changeId: result.changeId,
      jobId: input.jobId,
      action: result.action,
      status: result.status,
      objectType: result.sourceIdentity.type,
      sourceId: result.sourceIdentity.id,
      sourceDisplayName: result.sourceIdentity.displayName,
      targetId: result.targetIdentity.id,
      targetDisplayName: result.targetIdentity.displayName,
      modifiedProperties: result.modifiedProperties as unknown as Prisma.InputJsonValue,
      steps: result.provisioningSteps as unknown as Prisma.InputJsonValue,
      errorCode: result.statusInfo.errorCode ?? null,
      errorCategory: result.statusInfo.errorCategory ?? null,
      errorReason: result.statusInfo.reason ?? null,
      recommendedAction: result.statusInfo.recommendedAction ?? null,
      durationMs,
      initiatedBy: input.initiatedBy,
      replayOf: input.replayOf ?? null,
    },
    select: { id: true },
  });
  return log.id;
}

/**
 * Runs on-demand provisioning on a worker (the same code path and request budget as a cycle) and waits
 * for its result, as Entra's provisionOnDemand answers synchronously.
 */
export async function provisionOnDemandNow(
  db: PrismaClient,
  input: { connectionId: string; subject: OnDemandSubject; initiatedBy: string; replayOf?: string },
): Promise<OnDemandResponse & { jobId: string }> {
  const { job } = await enqueueJob(
    db,
    onDemandJob,
    {
      connectionId: input.connectionId,
      subjects: [input.subject],
      initiatedBy: input.initiatedBy,
      ...(input.replayOf ? { replayOf: input.replayOf } : {}),
    },
    { connectionId: input.connectionId, priority: 100, maxAttempts: 1 },
  );
  let finished;
  try {
    finished = await waitForJob(db, job.id, { timeoutMs: 90_000, signal: undefined });
  } catch (error) {
    if (error instanceof JobWaitTimeoutError) throw new AppError("worker_unavailable", error.message);
    throw error;
  }
  if (finished.status !== "succeeded") {
    throw new AppError(
      "upstream_failed",
      `On-demand provisioning did not complete: ${finished.lastError ?? finished.status}`,
    );
  }
  const result = (finished.result as { results: OnDemandResponse[] }).results[0]!;
  return { ...result, jobId: job.id };
}
