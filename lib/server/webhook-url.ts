import net from "node:net";
import {
  checkTransportAndAddress,
  isInternalAddress,
  isLoopbackHost,
  systemResolver,
  type HostResolver,
  type TenantUrlPolicy,
} from "./tenant-url";

/**
 * The webhook URL gets the tenant URL's SSRF rules: the worker POSTs to whatever an admin types, so it
 * must be https and must not reach into the network the service runs in (metadata endpoints, the
 * database host …) unless an operator allowed private addresses (ALLOW_PRIVATE_TENANT_URLS). The
 * sandbox accepts plain http on loopback, where its webhook catcher listens.
 * Unlike the tenant URL a query string is allowed: some receivers route on it.
 */
export type WebhookUrlPolicy = TenantUrlPolicy;

export function checkWebhookUrl(value: string, policy: WebhookUrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://hooks.example.com/dialpad-provisioning";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  if (url.hash) return "must not contain a fragment (#…)";
  return checkTransportAndAddress(url, policy);
}

const PRIVATE_ADDRESS_MESSAGE =
  "resolves to a private, loopback or link-local address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)";

export type ResolvedWebhookTarget =
  { ok: true; url: URL; addresses: { address: string; family: number }[] } | { ok: false; problem: string };

/**
 * The addresses a delivery may connect to. The request is then pinned to exactly these (no second DNS
 * lookup), so a name that answers a public address to the check and a private one to the connection
 * (DNS rebinding) cannot steer the POST inside.
 */
export async function resolveWebhookTarget(
  value: string,
  policy: WebhookUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<ResolvedWebhookTarget> {
  const problem = checkWebhookUrl(value, policy);
  if (problem) return { ok: false, problem };
  const url = new URL(value);
  const host = hostOf(url);
  const family = net.isIP(host);
  if (family) return { ok: true, url, addresses: [{ address: host, family }] };
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch {
    return { ok: false, problem: `host ${host} could not be resolved` };
  }
  if (!addresses.length) return { ok: false, problem: `host ${host} could not be resolved` };
  if (!policy.allowPrivateAddresses) {
    const internal = addresses.filter((entry) => isInternalAddress(entry.address));
    const loopbackAllowed =
      policy.allowLoopbackHttp && internal.every((entry) => isLoopbackHost(entry.address));
    if (internal.length && !loopbackAllowed) return { ok: false, problem: PRIVATE_ADDRESS_MESSAGE };
  }
  return { ok: true, url, addresses };
}

/**
 * For saving: the URL's form and, when its name resolves, where it points. A name that does not resolve
 * (yet) is accepted, as for the tenant URL; delivery checks again and reports it.
 */
export async function checkWebhookUrlResolved(
  value: string,
  policy: WebhookUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<string | null> {
  const target = await resolveWebhookTarget(value, policy, resolve);
  if (target.ok) return null;
  return /could not be resolved/.test(target.problem) ? null : target.problem;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}
