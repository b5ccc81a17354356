import { expect, test } from "vitest";
import { securityHeaders } from "./security-headers";

test("the policy allows scripts only by nonce and the sign-in authority only where MSAL needs it", () => {
  const headers = securityHeaders({
    authority: "https://login.microsoftonline.com/tenant/",
    isDev: false,
    isHttps: true,
    nonce: "abc123",
  });
  const csp = headers["Content-Security-Policy"]!;
  expect(csp).toContain("script-src 'nonce-abc123' 'strict-dynamic'");
  expect(csp).not.toContain("unsafe-eval");
  expect(csp).toContain("connect-src 'self' https://login.microsoftonline.com");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers["Strict-Transport-Security"]).toMatch(/max-age=\d+/);
});

test("no HSTS over plain http (a loopback console), and no stray authority when none is configured", () => {
  const headers = securityHeaders({ isDev: false, isHttps: false, nonce: "n" });
  expect(headers["Strict-Transport-Security"]).toBeUndefined();
  expect(headers["Content-Security-Policy"]).toContain("connect-src 'self';");
});
