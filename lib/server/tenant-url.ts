import { isLoopbackName, isPlainLoopback, type OutboundAddressPolicy } from "../net/address-policy";
import {
  hostOf,
  judgeHostLiteral,
  resolveOutboundHost,
  systemResolver,
  type HostResolver,
} from "../net/outbound";

export { systemResolver, type HostResolver };

/** The outbound-address policy (lib/net/address-policy.ts) as every URL check of the server uses it. */
export type TenantUrlPolicy = OutboundAddressPolicy;

/**
 * Validates the Dialpad tenant URL the admin typed. The console sends a key that can delete every phone
 * user of the company to this address, so it must be https, carry no credentials, and not point into
 * the network the service runs in (SSRF) unless an operator allowed it.
 * Returns an error message, or null when acceptable.
 */
export function checkTenantUrl(value: string, policy: TenantUrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://dialpad.com/scim";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  if (url.search || url.hash) return "must not contain a query string or fragment";
  return checkTransportAndAddress(url, policy);
}

/**
 * What every outbound URL the service sends secrets or data to must meet: https (plain http only on
 * loopback in the sandbox, and only where `httpOnLoopback` allows it), and a host the outbound-address
 * policy accepts when written as an IP address or as localhost.
 */
export function checkTransportAndAddress(
  url: URL,
  policy: TenantUrlPolicy,
  options: { httpOnLoopback?: boolean } = {},
): string | null {
  const host = hostOf(url);
  const loopback = isLoopbackName(host) || isPlainLoopback(host);
  if (url.protocol === "http:") {
    if (!(loopback && policy.allowLoopbackHttp && (options.httpOnLoopback ?? true))) return "must use https";
  } else if (url.protocol !== "https:") {
    return "must use https";
  }
  const literal = judgeHostLiteral(host, policy);
  if (literal && !literal.ok) return literal.problem;
  if (isLoopbackName(host) && !policy.allowLoopbackHttp && !policy.allowPrivateAddresses)
    return `points to ${host}, a loopback address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)`;
  return null;
}

/**
 * Where a host name points, judged by the same policy: a public-looking name that resolves into the
 * service's own network (127.0.0.1, 10.x, 169.254.169.254 …) is refused like the literal address. A name
 * that does not resolve is left to the connection attempt to report (it fails anyway, and saving offline
 * must stay possible).
 */
export async function checkResolvedAddress(
  url: URL,
  policy: TenantUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<string | null> {
  const target = await resolveOutboundHost(hostOf(url), policy, resolve);
  return target.ok || target.unresolved ? null : target.problem;
}

/** checkTenantUrl plus DNS. Used when the URL is saved and again right before connecting to it. */
export async function checkTenantUrlResolved(
  value: string,
  policy: TenantUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<string | null> {
  return checkTenantUrl(value, policy) ?? (await checkResolvedAddress(new URL(value), policy, resolve));
}

/**
 * A Microsoft Graph authority host or base URL: the service sends the Graph client secret to the first
 * and the directory's data comes from the second, so both get the tenant URL's rules, https only (the
 * sandbox's Graph emulator speaks https too).
 */
export async function checkGraphUrlResolved(
  value: string,
  policy: TenantUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://graph.microsoft.com/v1.0";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  if (url.search || url.hash) return "must not contain a query string or fragment";
  return (
    checkTransportAndAddress(url, policy, { httpOnLoopback: false }) ??
    (await checkResolvedAddress(url, policy, resolve))
  );
}
