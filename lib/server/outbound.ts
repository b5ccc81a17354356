import { env, isSandboxEnabled, type Environment } from "../config/env";
import type { OutboundAddressPolicy } from "../net/address-policy";
import { createPinnedFetch } from "../net/pinned-fetch";

/**
 * The one allowance mechanism for every URL the server calls (tenant, webhook, Graph authority, Graph
 * base URL): the sandbox may use loopback, and an operator may open up private addresses with
 * ALLOW_PRIVATE_TENANT_URLS. Nothing else widens the policy.
 */
export function outboundPolicy(settings: Environment = env()): OutboundAddressPolicy {
  return {
    allowLoopbackHttp: isSandboxEnabled(settings),
    allowPrivateAddresses: settings.ALLOW_PRIVATE_TENANT_URLS,
  };
}

const fetches = new Map<string, typeof fetch>();

/**
 * The fetch the Graph, MSAL and SCIM clients use: connections only to addresses the policy accepts,
 * judged when each connection opens. One per policy, so kept-alive connections are shared across clients.
 */
export function outboundFetch(policy: OutboundAddressPolicy = outboundPolicy()): typeof fetch {
  const key = `${policy.allowLoopbackHttp}|${policy.allowPrivateAddresses}`;
  let pinned = fetches.get(key);
  if (!pinned) {
    pinned = createPinnedFetch({ policy });
    fetches.set(key, pinned);
  }
  return pinned;
}
