import type { Connection } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import {
  createFetchNetworkClient,
  createGraphClient,
  createMsalTokenProvider,
  type GraphClient,
  type GraphTokenProvider,
} from "../graph";
import { createScimClient, type RequestLimiter, type ScimClient, type ScimExchange } from "../scim";
import { listDialpadOffices } from "../scim/dialpad-offices";
import { AppError } from "./errors";
import { outboundFetch, outboundPolicy } from "./outbound";
import { checkTenantUrlResolved } from "./tenant-url";
import { openGraphClientSecret, openSecretToken } from "./connections";

const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";
const DEFAULT_GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0";

/**
 * MSAL caches tokens per application object; keeping one per connection and credential avoids asking
 * for a new Graph token on every request. A changed secret yields a new cache key.
 */
const tokenProviders = new Map<string, GraphTokenProvider>();

/**
 * The Graph client of a connection. Its requests and MSAL's requests to the authority go through the
 * outbound fetch: a stored authority or base URL on an address the policy refuses (put there before the
 * check existed, or by a name that now resolves inside) gets no connection and no client secret.
 */
export function graphClientFor(
  connection: Connection,
  box: SecretBox,
  /** A request an admin waits for (Save) asks once and briefly; cycles keep the client's retries. */
  requestOptions: { timeoutMs?: number; maxRetries?: number; onRequest?: () => void } = {},
): GraphClient {
  const clientSecret = openGraphClientSecret(connection, box);
  if (!connection.graphTenantId || !connection.graphClientId || !clientSecret) {
    throw new AppError(
      "not_configured",
      "The Microsoft Graph source is not configured: set the tenant id, client id and client secret.",
    );
  }
  const authorityHost = connection.graphAuthorityHost ?? DEFAULT_AUTHORITY_HOST;
  const graphBaseUrl = connection.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL;
  const fetch = outboundFetch();
  const key = [
    connection.id,
    outboundPolicyKey(),
    authorityHost,
    connection.graphTenantId,
    connection.graphClientId,
    connection.graphClientSecretUpdatedAt?.getTime(),
  ].join("|");
  let tokenProvider = tokenProviders.get(key);
  if (!tokenProvider) {
    tokenProvider = createMsalTokenProvider({
      authorityHost,
      tenantId: connection.graphTenantId,
      clientId: connection.graphClientId,
      clientSecret,
      knownAuthorities: [new URL(authorityHost).host],
      networkClient: createFetchNetworkClient(fetch),
      // The token is always for https://graph.microsoft.com, wherever Graph is served from (the sandbox
      // emulator, like Entra, expects that resource); national clouds will need their own setting.
    });
    tokenProviders.set(key, tokenProvider);
  }
  const { onRequest, ...clientOptions } = requestOptions;
  // Counted here rather than in the client: every attempt, retries included, is a request Graph saw.
  const graphFetch: typeof fetch = onRequest
    ? (input, init) => {
        onRequest();
        return fetch(input, init);
      }
    : fetch;
  return createGraphClient({ baseUrl: graphBaseUrl, tokenProvider, fetch: graphFetch, ...clientOptions });
}

/** Token providers hold their network client: a changed policy must not reuse one made under the old. */
function outboundPolicyKey(): string {
  const policy = outboundPolicy();
  return `${policy.allowLoopbackHttp}/${policy.allowPrivateAddresses}`;
}

/**
 * The Dialpad client of a connection. The tenant URL's host is resolved again here, not only when it
 * was saved: a name that has started to point into the private network is refused before the key
 * travels to it.
 */
export async function scimClientFor(
  connection: Connection,
  box: SecretBox,
  options: {
    limiter?: RequestLimiter;
    onExchange?: (exchange: ScimExchange) => void;
    beforeWrite?: () => void;
  } = {},
): Promise<ScimClient> {
  const { tenantUrl, token } = await dialpadPeerFor(connection, box);
  return createScimClient({
    baseUrl: tenantUrl,
    token,
    limiter: options.limiter,
    onExchange: options.onExchange,
    fetch: outboundFetch(),
    ...(options.beforeWrite ? { beforeWrite: options.beforeWrite } : {}),
  });
}

/** Dialpad's office names, read with the connection's key from Dialpad's REST API next to the SCIM one. */
export async function dialpadOfficesFor(connection: Connection, box: SecretBox): Promise<string[]> {
  const { tenantUrl, token } = await dialpadPeerFor(connection, box);
  return listDialpadOffices({ tenantUrl, token, fetch: outboundFetch() });
}

/** The tenant URL (checked again against the private network) and the unsealed key of a connection. */
async function dialpadPeerFor(
  connection: Connection,
  box: SecretBox,
): Promise<{ tenantUrl: string; token: string }> {
  const token = openSecretToken(connection, box);
  if (!connection.tenantUrl || !token) {
    throw new AppError(
      "not_configured",
      "Dialpad is not configured: enter the tenant URL and secret token, then test the connection.",
    );
  }
  const problem = await checkTenantUrlResolved(connection.tenantUrl, outboundPolicy());
  if (problem) throw new AppError("not_configured", `The tenant URL ${problem}.`);
  return { tenantUrl: connection.tenantUrl, token };
}
