import type { Principal } from "../auth/verify-token";
import { SharedRequestBudget } from "./request-budget";
import type { TObjectMapping } from "../mapping";
import { runScimSelfTest, type ScimSelfTestReport } from "../scim/self-test";
import { recordAudit } from "./audit";
import { getConnection, openSecretToken } from "./connections";
import type { ServerContext } from "./context";
import { AppError } from "./errors";
import { loadMappingConfig } from "./mappings";
import { checkTenantUrlResolved } from "./tenant-url";
import { tenantUrlPolicy } from "./test-connection";
import { outboundFetch } from "./outbound";

/**
 * Target self-test of a connection's saved Dialpad (SCIM) endpoint. Unlike Test Connection it never
 * tests typed values: it may write to the target, so it only ever talks to the URL an admin saved,
 * with the saved key, matching on the attributes the saved mappings match on.
 */
export async function runTargetSelfTest(
  context: ServerContext,
  principal: Principal,
  connectionId: string,
  input: { createTemporaryUser: boolean },
): Promise<ScimSelfTestReport> {
  const connection = await getConnection(context.db, connectionId);
  const token = openSecretToken(connection, context.box);
  if (!connection.tenantUrl || !token) {
    throw new AppError(
      "not_configured",
      "Dialpad is not configured: save the tenant URL and secret token, then run the self-test.",
    );
  }
  // Resolved again now, not only when saved: a name that has started to point into the private network
  // must not receive the key.
  const problem = await checkTenantUrlResolved(connection.tenantUrl, tenantUrlPolicy(context));
  if (problem) throw new AppError("not_configured", `The tenant URL ${problem}.`);

  const mapping = loadMappingConfig(connection.mappings);
  const report = await runScimSelfTest({
    baseUrl: connection.tenantUrl,
    token,
    userMatchingAttributes: matchingTargets(mapping.users),
    groupMatchingAttributes: mapping.groups.enabled ? matchingTargets(mapping.groups) : [],
    userMappedAttributes: mapping.users.attributeMappings.map((attribute) => attribute.target),
    groupMappedAttributes: mapping.groups.enabled
      ? mapping.groups.attributeMappings.map((attribute) => attribute.target)
      : [],
    targetName: "Dialpad",
    createTemporaryUser: input.createTemporaryUser,
    fetch: outboundFetch(tenantUrlPolicy(context)),
    // The connection's shared budget: a self-test during a running cycle must not push Dialpad past
    // its limit for both.
    limiter: new SharedRequestBudget({ db: context.db, connectionId }),
  });

  const { pass, warn, fail, skipped } = report.summary;
  const outcome = `${pass} passed, ${warn} warnings, ${fail} failed, ${skipped} skipped`;
  await recordAudit(context.db, {
    connectionId,
    activity: "Target self-test",
    principal,
    result: fail > 0 ? "failure" : "success",
    changes: {
      tenantUrl: { before: null, after: report.target },
      outcome: { before: null, after: outcome },
      ...(report.temporaryUser
        ? {
            temporaryUser: {
              before: null,
              after: `${report.temporaryUser.userName}: ${
                report.temporaryUser.created
                  ? report.temporaryUser.deleted
                    ? "created and deleted"
                    : "created, NOT deleted"
                  : "not created"
              }`,
            },
          }
        : {}),
    },
  });
  context.log.info(
    { connectionId, summary: report.summary, temporaryUser: report.temporaryUser },
    "target self-test finished",
  );
  return report;
}

function matchingTargets(mapping: TObjectMapping): string[] {
  return mapping.attributeMappings
    .filter((attribute) => attribute.matchingPriority > 0)
    .sort((a, b) => a.matchingPriority - b.matchingPriority)
    .map((attribute) => attribute.target);
}
