import net from "node:net";

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
