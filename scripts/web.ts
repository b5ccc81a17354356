/**
 * The web process: Next.js served by a plain Node HTTP server, so that it can follow the launcher's
 * lifecycle (exit when the launcher's IPC channel closes) and shut down gracefully on SIGTERM.
 */
import crypto from "node:crypto";
import http from "node:http";
import next from "next";
import { env } from "../lib/config/env";
import { securityHeaders } from "../lib/server/security-headers";

const isDev = process.argv.includes("--dev");
const settings = env();
const app = next({ dev: isDev, hostname: settings.HOST, port: settings.PORT, dir: process.cwd() });
const handle = app.getRequestHandler();

await app.prepare();
const isHttps = (settings.PUBLIC_URL ?? "").startsWith("https://");
const server = http.createServer((req, res) => {
  // A fresh nonce per response. Next.js reads it from the request's CSP header and stamps it on the
  // inline scripts it renders, so the policy needs no 'unsafe-inline' for scripts.
  const nonce = crypto.randomBytes(16).toString("base64");
  const headers = securityHeaders({ authority: settings.AUTH_AUTHORITY, isDev, isHttps, nonce });
  req.headers["content-security-policy"] = headers["Content-Security-Policy"];
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  void handle(req, res);
});
server.listen(settings.PORT, settings.HOST, () => {
  console.log(
    JSON.stringify({
      level: 30,
      process: "web",
      msg: `listening on http://${settings.HOST}:${settings.PORT}`,
    }),
  );
});

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
process.on("disconnect", shutdown);
