import { createScimClient, type TestConnectionResult } from "../scim";
import type { Principal } from "../auth/verify-token";
import type { ServerContext } from "./context";
import { getConnection, openSecretToken } from "./connections";
import { validationFailed } from "./errors";
import { checkTenantUrlResolved } from "./tenant-url";
import { recordAudit } from "./audit";
import { outboundFetch, outboundPolicy } from "./outbound";

/**
 * Entra's Test Connection: query the target for a user that cannot exist and expect an empty list.
 * Values typed in the form but not saved yet are tested as typed (as the Entra portal does); the saved
 * key is used when no new one was typed.
 */
export async function testConnection(
  context: ServerContext,
  principal: Principal,
  connectionId: string,
  input: { tenantUrl?: string; secretToken?: string },
): Promise<TestConnectionResult> {
  const connection = await getConnection(context.db, connectionId);
  const tenantUrl = input.tenantUrl ?? connection.tenantUrl;
  const token = input.secretToken ?? openSecretToken(connection, context.box);
  if (!tenantUrl) throw validationFailed([{ field: "tenantUrl", message: "Enter the tenant URL first." }]);
  const urlProblem = await checkTenantUrlResolved(tenantUrl, tenantUrlPolicy(context));
  if (urlProblem) throw validationFailed([{ field: "tenantUrl", message: `The tenant URL ${urlProblem}.` }]);
  if (!token) throw validationFailed([{ field: "secretToken", message: "Enter the secret token first." }]);

  const client = createScimClient({
    baseUrl: tenantUrl,
    token,
    timeoutMs: 15_000,
    maxRetries: 1,
    fetch: outboundFetch(tenantUrlPolicy(context)),
  });
  const result = await client.testConnection();
  await recordAudit(context.db, {
    connectionId,
    activity: "Test connection",
    principal,
    result: result.ok ? "success" : "failure",
    changes: {
      tenantUrl: { before: null, after: tenantUrl },
      outcome: { before: null, after: result.message },
    },
  });
  return result;
}

/** The outbound-address policy of the request's server context (see outbound.ts). */
export function tenantUrlPolicy(context: Pick<ServerContext, "settings">) {
  return outboundPolicy(context.settings);
}
