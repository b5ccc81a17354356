import net from "node:net";
import { lookup } from "node:dns/promises";

export interface TenantUrlPolicy {
  /** Sandbox mode: plain http is accepted for loopback hosts. */
  allowLoopbackHttp: boolean;
  /** Operator setting ALLOW_PRIVATE_TENANT_URLS: private, loopback and link-local addresses accepted. */
  allowPrivateAddresses: boolean;
}

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
 * What every outbound URL the service sends secrets or data to must meet: https (http only on
 * loopback in the sandbox), and no private, loopback or link-local host unless an operator allowed it.
 */
export function checkTransportAndAddress(url: URL, policy: TenantUrlPolicy): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = isLoopbackHost(host);
  if (url.protocol === "http:") {
    if (!(loopback && policy.allowLoopbackHttp)) return "must use https";
  } else if (url.protocol !== "https:") {
    return "must use https";
  }
  if (!policy.allowPrivateAddresses && !(loopback && policy.allowLoopbackHttp) && isInternalAddress(host)) {
    return "points to a private, loopback or link-local address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)";
  }
  return null;
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  if (net.isIPv6(host)) return host === "::1";
  return false;
}

export function isInternalAddress(host: string): boolean {
  if (isLoopbackHost(host)) return true;
  if (net.isIPv4(host)) {
    const [a = 0, b = 0] = host.split(".").map(Number);
    return (
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (net.isIPv6(host)) {
    const lower = host.toLowerCase();
    return (
      lower.startsWith("fc") ||
      lower.startsWith("fd") ||
      lower.startsWith("fe80") ||
      lower === "::" ||
      lower.startsWith("::ffff:")
    );
  }
  return false;
}

/** Resolves a host name to every address it has (A and AAAA); injectable so tests need no DNS. */
export type HostResolver = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: HostResolver = (host) => lookup(host, { all: true, verbatim: true });

const PRIVATE_ADDRESS_MESSAGE =
  "resolves to a private, loopback or link-local address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)";

/**
 * checkTenantUrl plus DNS: a public-looking name that resolves into the service's own network
 * (127.0.0.1, 10.x, 169.254.169.254 …) is refused like the literal address would be. Used when the URL
 * is saved and again right before connecting to it. A name that does not resolve is left to the
 * connection attempt to report (it fails anyway, and saving offline must stay possible).
 * In sandbox mode a name resolving only to loopback is accepted, like the literal loopback host.
 */
export async function checkTenantUrlResolved(
  value: string,
  policy: TenantUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<string | null> {
  const problem = checkTenantUrl(value, policy);
  if (problem) return problem;
  if (policy.allowPrivateAddresses) return null;
  const host = new URL(value).hostname.replace(/^\[|\]$/g, "");
  if (net.isIP(host) || isLoopbackHost(host)) return null; // literals were judged by checkTenantUrl
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch {
    return null;
  }
  const internal = addresses.filter((entry) => isInternalAddress(entry.address));
  if (!internal.length) return null;
  if (policy.allowLoopbackHttp && internal.every((entry) => isLoopbackHost(entry.address))) return null;
  return PRIVATE_ADDRESS_MESSAGE;
}
