import { describe, expect, test } from "vitest";
import { classifyAddress, judgeAddress, type AddressCategory } from "./address-policy";

const production = { allowLoopbackHttp: false, allowPrivateAddresses: false };
const sandbox = { allowLoopbackHttp: true, allowPrivateAddresses: false };
const operatorAllowsPrivate = { allowLoopbackHttp: false, allowPrivateAddresses: true };

/**
 * The golden table: each address form an admin could type (or a DNS name could answer) and how the
 * policy judges it in production, in the sandbox, and with ALLOW_PRIVATE_TENANT_URLS.
 * Columns: address, category, production, sandbox, operator allows private.
 */
const GOLDEN: [string, AddressCategory, boolean, boolean, boolean][] = [
  // Public examples stay reachable everywhere.
  ["20.190.160.1", "public", true, true, true], // login.microsoftonline.com's range
  ["34.117.1.1", "public", true, true, true],
  ["8.8.8.8", "public", true, true, true],
  ["172.32.0.1", "public", true, true, true], // just past 172.16.0.0/12
  ["100.128.0.1", "public", true, true, true], // just past 100.64.0.0/10
  ["198.20.0.1", "public", true, true, true], // just past 198.18.0.0/15
  ["2603:1030::1", "public", true, true, true],
  ["2001:4860:4860::8888", "public", true, true, true],
  ["::ffff:8.8.8.8", "public", true, true, true], // a mapped public address is that public address
  ["64:ff9b::808:808", "public", true, true, true], // NAT64 of 8.8.8.8
  // Private IPv4.
  ["10.0.0.1", "private", false, false, true],
  ["10.255.255.255", "private", false, false, true],
  ["172.16.0.1", "private", false, false, true],
  ["172.31.255.254", "private", false, false, true],
  ["192.168.1.20", "private", false, false, true],
  // Loopback: the sandbox allowance covers the plain forms only.
  ["127.0.0.1", "loopback", false, true, true],
  ["127.1.2.3", "loopback", false, true, true],
  ["::1", "loopback", false, true, true],
  ["[::1]", "loopback", false, true, true],
  // Link-local, cloud metadata.
  ["169.254.169.254", "link-local", false, false, true],
  ["fe80::1", "link-local", false, false, true],
  ["fe80::1%eth0", "link-local", false, false, true],
  ["febf:ffff::1", "link-local", false, false, true],
  // Unique-local and site-local IPv6.
  ["fc00::1", "unique-local", false, false, true],
  ["fd12:3456:789a::1", "unique-local", false, false, true],
  ["fec0::1", "private", false, false, true],
  // Carrier-grade NAT and benchmarking.
  ["100.64.0.1", "shared", false, false, true],
  ["100.127.255.254", "shared", false, false, true],
  ["198.18.0.1", "benchmark", false, false, true],
  ["198.19.255.254", "benchmark", false, false, true],
  // Never a server: refused even when an operator allows private addresses.
  ["0.0.0.0", "unspecified", false, false, false],
  ["0.1.2.3", "unspecified", false, false, false],
  ["::", "unspecified", false, false, false],
  ["255.255.255.255", "broadcast", false, false, false],
  ["224.0.0.1", "multicast", false, false, false],
  ["239.255.255.250", "multicast", false, false, false],
  ["ff02::1", "multicast", false, false, false],
  ["ff0e::1", "multicast", false, false, false],
  ["192.0.2.10", "documentation", false, false, false],
  ["198.51.100.7", "documentation", false, false, false],
  ["203.0.113.9", "documentation", false, false, false],
  ["2001:db8::1", "documentation", false, false, false],
  ["192.0.0.8", "reserved", false, false, false],
  ["240.0.0.1", "reserved", false, false, false],
  ["100::1", "reserved", false, false, false], // discard-only
  ["2001::1", "reserved", false, false, false], // Teredo
  ["4000::1", "reserved", false, false, false], // outside 2000::/3
  // IPv4-mapped (::ffff:a.b.c.d), written dotted or as the URL parser normalizes it (hex).
  ["::ffff:169.254.169.254", "link-local", false, false, true],
  ["::ffff:a9fe:a9fe", "link-local", false, false, true],
  ["::ffff:10.0.0.1", "private", false, false, true],
  ["::ffff:127.0.0.1", "loopback", false, false, true],
  ["::ffff:7f00:1", "loopback", false, false, true],
  ["::ffff:224.0.0.1", "multicast", false, false, false],
  // IPv4-compatible (::a.b.c.d).
  ["::a9fe:a9fe", "link-local", false, false, true],
  ["::169.254.169.254", "link-local", false, false, true],
  ["::127.0.0.1", "loopback", false, false, true],
  ["::7f00:1", "loopback", false, false, true],
  ["::10.0.0.1", "private", false, false, true],
  ["::c612:1", "benchmark", false, false, true], // ::198.18.0.1
  // NAT64 (64:ff9b::/96 well-known, 64:ff9b:1::/48 local-use).
  ["64:ff9b::a9fe:a9fe", "link-local", false, false, true],
  ["64:ff9b::169.254.169.254", "link-local", false, false, true],
  ["64:ff9b::a00:1", "private", false, false, true],
  ["64:ff9b::7f00:1", "loopback", false, false, true],
  ["64:ff9b::e000:1", "multicast", false, false, false],
  ["64:ff9b:1::a9fe:a9fe", "private", false, false, true],
  ["64:ff9b:1:ffff::808:808", "private", false, false, true],
  // 6to4 embeds an IPv4 address too.
  ["2002:a9fe:a9fe::1", "link-local", false, false, true],
  ["2002:808:808::1", "public", true, true, true],
];

describe("outbound address policy: the golden table", () => {
  test.each(GOLDEN)("%s is %s", (address, category, inProduction, inSandbox, withOperatorAllowance) => {
    expect(classifyAddress(address)?.category).toBe(category);
    expect(judgeAddress(address, production).allowed).toBe(inProduction);
    expect(judgeAddress(address, sandbox).allowed).toBe(inSandbox);
    expect(judgeAddress(address, operatorAllowsPrivate).allowed).toBe(withOperatorAllowance);
  });

  test("host names and garbage are not addresses", () => {
    expect(classifyAddress("dialpad.com")).toBeNull();
    expect(classifyAddress("10.0.0")).toBeNull();
    expect(classifyAddress("1.2.3.4.5")).toBeNull();
    expect(classifyAddress("::ffff::1")).toBeNull();
  });

  test("the refusal names the address, the range, the hidden IPv4 address and the remedy", () => {
    expect(judgeAddress("::ffff:a9fe:a9fe", production)).toEqual({
      allowed: false,
      reason:
        "::ffff:a9fe:a9fe, a link-local address (the IPv4-mapped IPv6 form of 169.254.169.254); an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)",
    });
    expect(judgeAddress("64:ff9b::a9fe:a9fe", production)).toMatchObject({
      reason: expect.stringContaining("a NAT64 IPv6 form of 169.254.169.254"),
    });
    expect(judgeAddress("224.0.0.1", operatorAllowsPrivate)).toEqual({
      allowed: false,
      reason: "224.0.0.1, a multicast address, which this service never connects to",
    });
  });

  test("every address the URL parser can produce from an obfuscated IPv4 host is judged like the plain one", () => {
    for (const written of ["0xa9.0xfe.0xa9.0xfe", "2852039166", "0251.0376.0251.0376", "169.254.43518"]) {
      const host = new URL(`https://${written}/`).hostname;
      expect(host).toBe("169.254.169.254");
      expect(judgeAddress(host, production).allowed).toBe(false);
    }
    for (const written of ["[::ffff:169.254.169.254]", "[::169.254.169.254]", "[64:ff9b::169.254.169.254]"]) {
      const host = new URL(`https://${written}/`).hostname;
      expect(classifyAddress(host)?.embedded).toBe("169.254.169.254");
      expect(judgeAddress(host, production).allowed).toBe(false);
    }
  });
});
