import crypto from "node:crypto";
import type { PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import { explainObjectMapping, type AttributeExplanation } from "../mapping";
import { mappingEngineFor } from "../sync/mapping-adapter";
import { loadRefusalRegistry } from "./refused-attributes";
import type { OnDemandResult } from "../sync/on-demand-types";
import { processUser } from "../sync/process-user";
import { getConnection } from "./connections";
import { prismaCycleStore } from "./cycle-store";
import { prismaLinkStore } from "./link-store";
import { loadMappingConfig } from "./mappings";
import { graphClientFor, scimClientFor } from "./peers";

export interface UserExplanation {
  /** The user as the mappings see it (Entra attribute names), null when it could not be read. */
  source: Record<string, unknown> | null;
  /** create when the user is not in Dialpad yet, update when it is: mappings differ between the two. */
  operation: "create" | "update";
  attributes: AttributeExplanation[];
  /** Import, scoping (each clause), match and the action the next provisioning would take. */
  decision: OnDemandResult;
}

/**
 * "Why?" for one directory user: every mapping evaluated, every scoping clause, the match in Dialpad, and
 * what the next provisioning would do, through the same pipeline as on-demand provisioning but stopping
 * before any write. Only reads reach Graph and Dialpad, so Readers may ask.
 */
export async function explainUser(
  db: PrismaClient,
  box: SecretBox,
  input: { connectionId: string; objectId: string },
): Promise<UserExplanation> {
  const connection = await getConnection(db, input.connectionId);
  const config = loadMappingConfig(connection.mappings);
  const refusals = await loadRefusalRegistry(db, connection.id, config);
  const decision = await processUser(input.objectId, {
    graph: graphClientFor(connection, box),
    scim: await scimClientFor(connection, box),
    links: prismaLinkStore(db, connection.id),
    // Why? stops before any write; the store is there because the pipeline is the one that writes.
    store: prismaCycleStore(db, { connectionId: connection.id, cycleId: null, jobId: null }),
    mapping: mappingEngineFor(config, "User", { refusals }),
    skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
    servicePrincipalId: connection.graphServicePrincipalId,
    scope: connection.scope === "All" ? "All" : "AssignedOnly",
    actions: config.actions.User,
    changeId: crypto.randomUUID(),
    dryRun: true,
  });
  const imported = decision.provisioningSteps.find(
    (step) => step.type === "Import" && step.status === "success",
  );
  const source = imported ? imported.details : null;
  const operation = decision.targetIdentity.id ? "update" : "create";
  return {
    source,
    operation,
    attributes: source ? explainObjectMapping(config.users, source, operation) : [],
    decision,
  };
}
