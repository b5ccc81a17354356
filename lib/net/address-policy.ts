import net from "node:net";

/**
 * The one outbound-address policy: which IP addresses the service may open a connection to when it calls
 * a URL an admin typed (Dialpad tenant URL, webhook URL, Graph authority host, Graph base URL). Anything
 * that reaches into the network the service runs in (cloud metadata at 169.254.169.254, the database
 * host, a NAT64 gateway's view of either) is refused unless an operator allowed private addresses; ranges
 * that are never a real server (multicast, broadcast, documentation, reserved) are refused always.
 * Pure: no DNS here, callers resolve and pass every address.
 */

export type AddressCategory =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "unique-local"
  | "shared"
  | "benchmark"
  | "unspecified"
  | "broadcast"
  | "multicast"
  | "documentation"
  | "reserved";

/** How the address was written: an IPv4 address can hide inside several IPv6 forms. */
export type AddressForm = "ipv4" | "ipv6" | "ipv4-mapped" | "ipv4-compatible" | "nat64" | "6to4";

export interface AddressClass {
  category: AddressCategory;
  form: AddressForm;
  /** The IPv4 address inside an IPv6 form, dotted. */
  embedded?: string;
}

export interface OutboundAddressPolicy {
  /** Sandbox mode: loopback (127.0.0.0/8, ::1, localhost) is accepted, and plain http on it where allowed. */
  allowLoopbackHttp: boolean;
  /** Operator setting ALLOW_PRIVATE_TENANT_URLS: private, loopback, link-local and similar ranges accepted. */
  allowPrivateAddresses: boolean;
}

/** Ranges an operator may open up with ALLOW_PRIVATE_TENANT_URLS: real hosts, just internal ones. */
const INTERNAL: ReadonlySet<AddressCategory> = new Set([
  "private",
  "loopback",
  "link-local",
  "unique-local",
  "shared",
  "benchmark",
]);

const LABELS: Record<Exclude<AddressCategory, "public">, string> = {
  private: "private",
  loopback: "loopback",
  "link-local": "link-local",
  "unique-local": "unique-local (private IPv6)",
  shared: "carrier-grade NAT (100.64.0.0/10)",
  benchmark: "benchmarking (198.18.0.0/15)",
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  documentation: "documentation",
  reserved: "reserved",
};

type Range = readonly [first: number, prefix: number, category: AddressCategory];

// First match wins; 255.255.255.255 before 240.0.0.0/4.
const IPV4_RANGES: readonly Range[] = [
  [ipv4Number(0, 0, 0, 0), 8, "unspecified"],
  [ipv4Number(10, 0, 0, 0), 8, "private"],
  [ipv4Number(100, 64, 0, 0), 10, "shared"],
  [ipv4Number(127, 0, 0, 0), 8, "loopback"],
  [ipv4Number(169, 254, 0, 0), 16, "link-local"],
  [ipv4Number(172, 16, 0, 0), 12, "private"],
  [ipv4Number(192, 0, 0, 0), 24, "reserved"],
  [ipv4Number(192, 0, 2, 0), 24, "documentation"],
  [ipv4Number(192, 88, 99, 0), 24, "reserved"],
  [ipv4Number(192, 168, 0, 0), 16, "private"],
  [ipv4Number(198, 18, 0, 0), 15, "benchmark"],
  [ipv4Number(198, 51, 100, 0), 24, "documentation"],
  [ipv4Number(203, 0, 113, 0), 24, "documentation"],
  [ipv4Number(224, 0, 0, 0), 4, "multicast"],
  [ipv4Number(255, 255, 255, 255), 32, "broadcast"],
  [ipv4Number(240, 0, 0, 0), 4, "reserved"],
];

function ipv4Number(a: number, b: number, c: number, d: number): number {
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function ipv4Category(bytes: readonly number[]): AddressCategory {
  const value = ipv4Number(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  for (const [first, prefix, category] of IPV4_RANGES) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    if ((value & mask) >>> 0 === first) return category;
  }
  return "public";
}

function parseIpv4(text: string): number[] | null {
  if (!net.isIPv4(text)) return null;
  return text.split(".").map(Number);
}

/** 16 bytes of an IPv6 literal (zone id dropped), or null. */
function parseIpv6(text: string): number[] | null {
  const address = text.replace(/%.*$/, "");
  if (!net.isIPv6(address)) return null;
  let groups = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    if (!v4) return null;
    tail.push(...v4);
    groups = groups.slice(0, -dotted[1]!.length) + "0:0";
  }
  const [head, rest] = groups.includes("::") ? groups.split("::") : [groups, undefined];
  const headParts = head ? head.split(":") : [];
  const restParts = rest ? rest.split(":") : [];
  const missing = 8 - headParts.length - restParts.length;
  const parts = [...headParts, ...(rest !== undefined ? Array<string>(missing).fill("0") : []), ...restParts];
  const bytes = parts.flatMap((part) => {
    const value = parseInt(part || "0", 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : null;
}

const startsWith = (bytes: readonly number[], prefix: readonly number[]) =>
  prefix.every((value, index) => bytes[index] === value);

function embeddedIpv4(bytes: readonly number[], form: AddressForm, at = 12): AddressClass {
  const v4 = bytes.slice(at, at + 4);
  return { category: ipv4Category(v4), form, embedded: v4.join(".") };
}

function ipv6Class(bytes: readonly number[]): AddressClass {
  const zeros = (count: number) => bytes.slice(0, count).every((value) => value === 0);
  if (zeros(16)) return { category: "unspecified", form: "ipv6" };
  if (zeros(15) && bytes[15] === 1) return { category: "loopback", form: "ipv6" };
  if (zeros(10) && bytes[10] === 0xff && bytes[11] === 0xff) return embeddedIpv4(bytes, "ipv4-mapped");
  if (zeros(12)) return embeddedIpv4(bytes, "ipv4-compatible");
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return embeddedIpv4(bytes, "nat64");
  // 64:ff9b:1::/48 is a network's own NAT64 prefix (RFC 8215): whatever it embeds, it is a local gateway.
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, 0, 1])) return { category: "private", form: "nat64" };
  if (startsWith(bytes, [0x20, 0x02])) return embeddedIpv4(bytes, "6to4", 2);
  if (startsWith(bytes, [0x20, 0x01, 0x0d, 0xb8])) return { category: "documentation", form: "ipv6" };
  // 2001::/23: IETF protocol assignments (Teredo, ORCHID, benchmarking 2001:2::/48 …), no servers of ours.
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2]! < 0x02)
    return { category: "reserved", form: "ipv6" };
  if ((bytes[0]! & 0xfe) === 0xfc) return { category: "unique-local", form: "ipv6" };
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return { category: "link-local", form: "ipv6" };
  // fec0::/10, deprecated site-local: still routed inside some networks.
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return { category: "private", form: "ipv6" };
  if (bytes[0] === 0xff) return { category: "multicast", form: "ipv6" };
  // Only 2000::/3 is allocated as global unicast; everything else (100::/64 discard …) is not a server.
  if ((bytes[0]! & 0xe0) !== 0x20) return { category: "reserved", form: "ipv6" };
  return { category: "public", form: "ipv6" };
}

/** What an IP literal is (brackets allowed); null when the text is not an IP address. */
export function classifyAddress(text: string): AddressClass | null {
  const address = text.replace(/^\[|\]$/g, "");
  const v4 = parseIpv4(address);
  if (v4) return { category: ipv4Category(v4), form: "ipv4" };
  const v6 = parseIpv6(address);
  return v6 ? ipv6Class(v6) : null;
}

/** localhost and *.localhost always mean this machine (RFC 6761), whatever DNS says. */
export function isLoopbackName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/** Loopback as the sandbox uses it: 127.0.0.0/8 or ::1 written plainly, not hidden in another form. */
export function isPlainLoopback(address: string): boolean {
  const known = classifyAddress(address);
  return known?.category === "loopback" && (known.form === "ipv4" || known.form === "ipv6");
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether the service may connect to this IP address. The sandbox allowance covers plain loopback only:
 * a NAT64 or IPv4-compatible form of 127.0.0.1 is a different host (the gateway's), and a mapped form is
 * only ever typed to get around a check.
 */
export function judgeAddress(address: string, policy: OutboundAddressPolicy): AddressVerdict {
  const known = classifyAddress(address);
  if (!known) return { allowed: false, reason: `${address} is not an IP address` };
  if (known.category === "public") return { allowed: true };
  if (policy.allowPrivateAddresses && INTERNAL.has(known.category)) return { allowed: true };
  if (policy.allowLoopbackHttp && isPlainLoopback(address)) return { allowed: true };
  return { allowed: false, reason: describeRefusal(address.replace(/^\[|\]$/g, ""), known) };
}

/** "10.0.0.5, a private address; …": what the address is and whether an operator can allow it. */
function describeRefusal(address: string, known: AddressClass): string {
  const label = LABELS[known.category as Exclude<AddressCategory, "public">];
  const hidden =
    known.form === "ipv4" || known.form === "ipv6"
      ? ""
      : ` (${FORM_LABELS[known.form]}${known.embedded ? ` of ${known.embedded}` : ""})`;
  const remedy = INTERNAL.has(known.category)
    ? "; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)"
    : ", which this service never connects to";
  return `${address}, a ${label} address${hidden}${remedy}`;
}

const FORM_LABELS: Record<Exclude<AddressForm, "ipv4" | "ipv6">, string> = {
  "ipv4-mapped": "the IPv4-mapped IPv6 form",
  "ipv4-compatible": "the IPv4-compatible IPv6 form",
  nat64: "a NAT64 IPv6 form",
  "6to4": "a 6to4 IPv6 form",
};

/**
 * The verdict on every address a host name resolved to: one refused address refuses the name, since the
 * connection could be made to any of them.
 */
export function judgeAddresses(
  addresses: readonly string[],
  policy: OutboundAddressPolicy,
): AddressVerdict & { refusedAddress?: string } {
  for (const address of addresses) {
    const verdict = judgeAddress(address, policy);
    if (!verdict.allowed) return { ...verdict, refusedAddress: address };
  }
  return { allowed: true };
}
