import https from "node:https";
import { expect, inject, test } from "vitest";
import { ensureSandboxTls } from "../sandbox/tls";

test("test workers trust the sandbox certificate through plain fetch", async () => {
  const tls = await ensureSandboxTls(inject("sandboxTlsDir"));
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end("trusted"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const response = await fetch(`https://localhost:${port}/`);
    expect(await response.text()).toBe("trusted");
  } finally {
    server.close();
  }
});
