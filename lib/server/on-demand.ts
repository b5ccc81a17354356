import crypto from "node:crypto";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import { processUser } from "../sync/process-user";
import type { OnDemandResult } from "../sync/on-demand-types";
import { mappingEngineFor } from "../sync/mapping-adapter";
import { getConnection } from "./connections";
import { prismaLinkStore } from "./link-store";
import { graphClientFor, scimClientFor } from "./peers";
import { loadMappingConfig } from "./mappings";

/**
 * Runs on a worker: provisions the requested user now, outside the schedule, through the same
 * per-object pipeline a cycle uses, and records it in the provisioning log like any other change.
 */
export async function runOnDemand(
  db: PrismaClient,
  box: SecretBox,
  input: { connectionId: string; objectId: string; initiatedBy: string; jobId: string | null },
): Promise<OnDemandResult> {
  const connection = await getConnection(db, input.connectionId);
  const config = loadMappingConfig(connection.mappings);
  const changeId = crypto.randomUUID();
  const started = Date.now();
  const result = await processUser(input.objectId, {
    graph: graphClientFor(connection, box),
    scim: await scimClientFor(connection, box),
    links: prismaLinkStore(db, connection.id),
    mapping: mappingEngineFor(config, "User"),
    servicePrincipalId: connection.graphServicePrincipalId,
    scope: connection.scope === "All" ? "All" : "AssignedOnly",
    actions: config.actions.User,
    changeId,
  });
  const log = await db.provisioningLog.create({
    data: {
      connectionId: connection.id,
      changeId,
      jobId: input.jobId,
      action: result.action,
      status: result.status,
      objectType: "User",
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
      durationMs: Date.now() - started,
      initiatedBy: input.initiatedBy,
    },
    select: { id: true },
  });
  return { ...result, logId: log.id };
}
