import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureSandboxTls } from "./tls";

const DAY = 24 * 60 * 60 * 1000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sandbox-tls-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Serves HTTPS with the certificate and fetches from it, trusting only that certificate. */
async function handshake(tls: { cert: string; key: string }, host: string): Promise<string> {
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end("hello"));
  await new Promise<void>((resolve) => server.listen(0, host === "localhost" ? "127.0.0.1" : host, resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      https
        .get(
          { host, port, path: "/", ca: tls.cert, servername: host === "localhost" ? host : undefined },
          (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => (body += chunk.toString()));
            res.on("end", () => resolve(body));
          },
        )
        .on("error", reject);
    });
  } finally {
    server.close();
  }
}

describe("ensureSandboxTls", () => {
  it("creates a certificate that clients trusting it accept for localhost, 127.0.0.1 and ::1", async () => {
    const tls = await ensureSandboxTls(dir);

    expect(await handshake(tls, "localhost")).toBe("hello");
    expect(await handshake(tls, "127.0.0.1")).toBe("hello");
    const x509 = new X509Certificate(tls.cert);
    expect(x509.subjectAltName).toContain("DNS:localhost");
    expect(x509.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(x509.checkIP("::1")).toBe("::1");
    expect(x509.checkHost("example.com")).toBeUndefined();
  });

  it("keeps the private key readable by its owner only", async () => {
    const tls = await ensureSandboxTls(dir);
    expect((await stat(tls.keyPath)).mode & 0o777).toBe(0o600);
  });

  it("rejects a client that does not trust the certificate", async () => {
    const tls = await ensureSandboxTls(dir);
    const other = await ensureSandboxTls(path.join(dir, "other"));
    const server = https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end("hello"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const failure = await new Promise<Error>((resolve) => {
        https
          .get({ host: "localhost", port, path: "/", ca: other.cert }, () => resolve(new Error("connected")))
          .on("error", resolve);
      });
      expect((failure as NodeJS.ErrnoException).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    } finally {
      server.close();
    }
  });

  it("reuses the stored certificate while it stays valid for more than seven days", async () => {
    const first = await ensureSandboxTls(dir);
    const validTo = new Date(new X509Certificate(first.cert).validTo).getTime();

    const again = await ensureSandboxTls(dir);
    const eightDaysBeforeExpiry = await ensureSandboxTls(dir, new Date(validTo - 8 * DAY));

    expect(again.cert).toBe(first.cert);
    expect(eightDaysBeforeExpiry.cert).toBe(first.cert);
  });

  it("replaces a certificate that expires within seven days", async () => {
    const first = await ensureSandboxTls(dir);
    const validTo = new Date(new X509Certificate(first.cert).validTo).getTime();

    const renewed = await ensureSandboxTls(dir, new Date(validTo - 6 * DAY));

    expect(renewed.cert).not.toBe(first.cert);
    expect(new Date(new X509Certificate(renewed.cert).validTo).getTime()).toBeGreaterThan(validTo);
  });

  it("replaces a key that does not belong to the certificate", async () => {
    const first = await ensureSandboxTls(dir);
    const stranger = await ensureSandboxTls(path.join(dir, "stranger"));
    await writeFile(first.keyPath, stranger.key);

    const repaired = await ensureSandboxTls(dir);

    expect(repaired.cert).not.toBe(first.cert);
    expect(new X509Certificate(repaired.cert).checkPrivateKey(createPrivateKey(repaired.key))).toBe(true);
    expect(await handshake(repaired, "localhost")).toBe("hello");
  });

  it("gives concurrent callers one consistent certificate and key", async () => {
    const results = await Promise.all([ensureSandboxTls(dir), ensureSandboxTls(dir), ensureSandboxTls(dir)]);

    const final = await ensureSandboxTls(dir);
    expect(new X509Certificate(final.cert).checkPrivateKey(createPrivateKey(final.key))).toBe(true);
    for (const result of results) expect(result.cert).toBe(final.cert);
  });
});
