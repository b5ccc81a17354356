import { hostOf, resolveOutboundHost } from "../net/outbound";
import {
  checkTransportAndAddress,
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
  const target = await resolveOutboundHost(hostOf(url), policy, resolve);
  if (!target.ok) return { ok: false, problem: target.problem };
  return { ok: true, url, addresses: target.addresses };
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
