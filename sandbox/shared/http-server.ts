import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/**
 * A small wrapper around node:http / node:https shared by the sandbox emulators.
 * It exists so that every emulator listens, reads bodies and shuts down the same way
 * (close() must not hang on keep-alive sockets held by test clients).
 */

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string } | undefined;
}

export interface ListeningServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(options: ListenOptions, handler: RequestHandler): Promise<ListeningServer> {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        // The handler owns error responses; this only guards against a crash in the handler itself.
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        }
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      });
  };
  const server: http.Server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
    : http.createServer(onRequest);
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export class BodyTooLargeError extends Error {}

/** Reads a request body as UTF-8 text, refusing bodies above `limitBytes`. */
export async function readBody(req: http.IncomingMessage, limitBytes = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitBytes) throw new BodyTooLargeError(`request body exceeds ${limitBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  if (address === "::1") return true;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.");
}

/** The host part of a URL for a listening address ("::1" → "[::1]"). */
export function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
