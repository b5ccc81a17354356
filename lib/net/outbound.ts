import { lookup } from "node:dns/promises";
import { isLoopbackName, judgeAddress, judgeAddresses, type OutboundAddressPolicy } from "./address-policy";

export type ResolvedAddress = { address: string; family: number };

/** Resolves a host name to every address it has (A and AAAA); injectable so tests need no DNS. */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = (host) => lookup(host, { all: true, verbatim: true });

export type OutboundTarget =
  | { ok: true; addresses: ResolvedAddress[] }
  /** `unresolved`: DNS had no answer (retry later); otherwise the policy refused an address. */
  | { ok: false; unresolved: boolean; problem: string };

/** The hostname of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Where a connection to `host` may go: a literal is judged as it is, a name by every address it resolves
 * to. The caller connects only to the returned addresses (see pinned-fetch.ts), so a name that answers a
 * public address to this check and a private one to the connection (DNS rebinding) gains nothing.
 */
export async function resolveOutboundHost(
  host: string,
  policy: OutboundAddressPolicy,
  resolve: HostResolver = systemResolver,
): Promise<OutboundTarget> {
  const literal = judgeHostLiteral(host, policy);
  if (literal) return literal;
  if (isLoopbackName(host) && !policy.allowLoopbackHttp && !policy.allowPrivateAddresses) {
    return {
      ok: false,
      unresolved: false,
      problem: `points to ${host}, a loopback address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)`,
    };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return { ok: false, unresolved: true, problem: `host ${host} could not be resolved` };
  }
  if (!addresses.length)
    return { ok: false, unresolved: true, problem: `host ${host} could not be resolved` };
  const verdict = judgeAddresses(
    addresses.map((entry) => entry.address),
    policy,
  );
  if (!verdict.allowed) return { ok: false, unresolved: false, problem: `resolves to ${verdict.reason}` };
  return { ok: true, addresses };
}

/** The verdict on an IP literal host; null when the host is a name, which must be resolved first. */
export function judgeHostLiteral(host: string, policy: OutboundAddressPolicy): OutboundTarget | null {
  const verdict = judgeAddress(host, policy);
  if (verdict.allowed)
    return { ok: true, addresses: [{ address: host, family: host.includes(":") ? 6 : 4 }] };
  if (/is not an IP address$/.test(verdict.reason)) return null;
  return { ok: false, unresolved: false, problem: `points to ${verdict.reason}` };
}
