import { describe, expect, test } from "vitest";
import { checkTenantUrl, checkTenantUrlResolved, type HostResolver } from "./tenant-url";

const production = { allowLoopbackHttp: false, allowPrivateAddresses: false };
const sandbox = { allowLoopbackHttp: true, allowPrivateAddresses: false };
const operatorAllowsPrivate = { allowLoopbackHttp: false, allowPrivateAddresses: true };

describe("tenant URL policy", () => {
  test.each([
    ["https://dialpad.com/scim", production, null],
    ["not a url", production, "must be a URL such as https://dialpad.com/scim"],
    ["dialpad.com/scim", production, "must be a URL such as https://dialpad.com/scim"],
    ["http://dialpad.com/scim", production, "must use https"],
    ["ftp://dialpad.com/scim", production, "must use https"],
    ["https://admin:secret@dialpad.com/scim", production, "must not contain a user name or password"],
    ["https://dialpad.com/scim?apikey=abc", production, "must not contain a query string or fragment"],
    [
      "https://10.0.0.5/scim",
      production,
      "points to 10.0.0.5, a private address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS)",
    ],
    ["https://192.168.1.20/scim", production, expect.stringContaining("private")],
    ["https://169.254.169.254/latest", production, expect.stringContaining("link-local")],
    ["https://[::1]/scim", production, expect.stringContaining("loopback")],
    [
      "https://[::a9fe:a9fe]/",
      production,
      expect.stringContaining("IPv4-compatible IPv6 form of 169.254.169.254"),
    ],
    [
      "https://[64:ff9b::a9fe:a9fe]/",
      production,
      expect.stringContaining("NAT64 IPv6 form of 169.254.169.254"),
    ],
    [
      "https://[::127.0.0.1]/scim",
      production,
      expect.stringContaining("IPv4-compatible IPv6 form of 127.0.0.1"),
    ],
    ["https://[::127.0.0.1]/scim", sandbox, expect.stringContaining("loopback")],
    ["https://[::ffff:127.0.0.1]/scim", sandbox, expect.stringContaining("IPv4-mapped")],
    ["https://198.18.0.1/scim", production, expect.stringContaining("benchmarking")],
    ["https://224.0.0.1/scim", operatorAllowsPrivate, expect.stringContaining("multicast")],
    ["https://[ff02::1]/scim", operatorAllowsPrivate, expect.stringContaining("never connects to")],
    ["https://localhost:3103/scim", production, expect.stringContaining("loopback")],
    ["https://localhost:3103/scim", sandbox, null],
    ["http://127.0.0.1:3103/scim", sandbox, null],
    ["http://10.0.0.5/scim", sandbox, "must use https"],
    ["https://10.0.0.5/scim", operatorAllowsPrivate, null],
  ])("%s", (url, policy, expected) => {
    expect(checkTenantUrl(url, policy)).toEqual(expected);
  });
});

describe("tenant URL policy with DNS", () => {
  const dns: Record<string, string[]> = {
    "dialpad.com": ["34.117.1.1"],
    "loop.attacker.example": ["127.0.0.1"],
    "intranet.attacker.example": ["93.184.216.34", "10.0.0.5"],
    "metadata.attacker.example": ["169.254.169.254"],
    "v6.attacker.example": ["fd00::1"],
    "nat64.attacker.example": ["64:ff9b::a9fe:a9fe"],
  };
  const resolve: HostResolver = async (host) => {
    const addresses = dns[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

  test.each([
    ["https://dialpad.com/scim", production, null],
    [
      "https://loop.attacker.example/scim",
      production,
      expect.stringContaining("resolves to 127.0.0.1, a loopback"),
    ],
    [
      "https://intranet.attacker.example/scim",
      production,
      expect.stringContaining("resolves to 10.0.0.5, a private"),
    ],
    ["https://metadata.attacker.example/", production, expect.stringContaining("link-local")],
    [
      "https://v6.attacker.example/scim",
      production,
      expect.stringContaining("resolves to fd00::1, a unique-local"),
    ],
    [
      "https://nat64.attacker.example/scim",
      production,
      expect.stringContaining("NAT64 IPv6 form of 169.254.169.254"),
    ],
    ["https://localhost:3103/scim", production, expect.stringContaining("loopback")],
    ["https://loop.attacker.example/scim", sandbox, null],
    ["https://intranet.attacker.example/scim", sandbox, expect.stringContaining("resolves to 10.0.0.5")],
    ["https://intranet.attacker.example/scim", operatorAllowsPrivate, null],
    ["https://unknown.example/scim", production, null],
    ["http://loop.attacker.example/scim", sandbox, "must use https"],
  ])("%s", async (url, policy, expected) => {
    expect(await checkTenantUrlResolved(url, policy, resolve)).toEqual(expected);
  });

  test("the system resolver refuses localhost by name in production", async () => {
    expect(await checkTenantUrlResolved("https://localhost/scim", production)).toMatch(/loopback/);
    expect(await checkTenantUrlResolved("https://app.localhost/scim", production)).toMatch(/loopback/);
  });
});
