import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import type { OutboundAddressPolicy } from "./address-policy";
import { OutboundConnectError } from "./connect-error";
import { hostOf, judgeHostLiteral, resolveOutboundHost, systemResolver, type HostResolver } from "./outbound";

/**
 * A `fetch` for calling URLs an admin typed (Graph, MSAL's authority, Dialpad): every connection goes to
 * an address resolved and judged by the outbound-address policy at connect time, and to no other (the
 * socket's lookup answers with exactly the judged addresses). Redirects are never followed.
 *
 * Failures to connect — refused by the policy, connection refused, reset, timed out, unreachable — all
 * surface as one OutboundConnectError ("could not connect to host:port"), so an error message shown to an
 * admin or a Reader cannot be used to tell an open port from a closed or filtered one.
 */

export interface PinnedFetchOptions {
  policy: OutboundAddressPolicy;
  resolve?: HostResolver;
  /**
   * How long an idle kept-alive connection stays open. Default 4 s: below the 5 s after which Node (and
   * many) servers close idle connections, so a request rarely lands on one the server is closing.
   */
  idleTimeoutMs?: number;
  /**
   * How long opening a connection may take before it counts as failed. Shorter than the callers' request
   * timeouts, so a filtered port ends as "could not connect" like a closed one, not as "no answer".
   */
  connectTimeoutMs?: number;
}

/** Errors that carry facts about the peer's certificate or name, not about which ports are open. */
const PASSED_THROUGH =
  /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ABORT_ERR)/;

/**
 * `init` of a pinned fetch may carry `beforeSend`, called when the request is about to leave (its
 * connection is open): a write that must not happen once its sender lost its right to write (a job
 * attempt's lease) is refused then, not only when it was queued, which can be long before if the process
 * was frozen meanwhile. Its error rejects the fetch as is.
 */
export type PinnedRequestInit = RequestInit & { beforeSend?: () => void };

export function createPinnedFetch(options: PinnedFetchOptions): typeof fetch {
  const resolve = options.resolve ?? systemResolver;
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolveOutboundHost(hostname, options.policy, resolve).then(
      (target) => {
        if (!target.ok) {
          const error = target.unresolved
            ? Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" })
            : new OutboundConnectError(hostname, true);
          callback(error as NodeJS.ErrnoException, "", 0);
          return;
        }
        const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
        const addresses = family
          ? target.addresses.filter((entry) => entry.family === family)
          : target.addresses;
        if (lookupOptions.all) callback(null, addresses);
        else if (addresses[0]) callback(null, addresses[0].address, addresses[0].family);
        else callback(new OutboundConnectError(hostname, true), "", 0);
      },
      (error: Error) => callback(error, "", 0),
    );
  };
  // Kept-alive connections: a provisioning cycle sends thousands of requests to one host. Each new socket
  // goes through `lookup`, so a reused connection is one that was judged when it was opened.
  const agentOptions = { keepAlive: true, timeout: options.idleTimeoutMs ?? 4_000, lookup };
  const agents = { "http:": new http.Agent(agentOptions), "https:": new https.Agent(agentOptions) };

  return async function pinnedFetch(
    input: RequestInfo | URL,
    init: PinnedRequestInit = {},
  ): Promise<Response> {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new TypeError(`unsupported URL ${url.protocol}`);
    const target = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    // Node skips `lookup` for IP literals: judge them here.
    if (judgeHostLiteral(hostOf(url), options.policy)?.ok === false)
      throw new OutboundConnectError(target, true);
    init.signal?.throwIfAborted();

    const headers = new Headers(init.headers);
    if (!headers.has("accept-encoding")) headers.set("accept-encoding", "gzip, deflate, br");
    const body = bodyBytes(init.body);
    if (body) headers.set("content-length", String(body.length));
    const send = url.protocol === "https:" ? https.request : http.request;

    // A kept-alive connection the server closed just as it was reused fails with ECONNRESET before the
    // request reached it (Node's documented case for `reusedSocket`): sent once more on a new connection.
    const exchange = (mayResend: boolean): Promise<Response> =>
      new Promise<Response>((settle, fail) => {
        const request = send(
          url,
          {
            method: init.method ?? "GET",
            headers: Object.fromEntries(headers),
            agent: agents[url.protocol as "http:" | "https:"],
            signal: init.signal ?? undefined,
          },
          (response) => {
            const status = response.statusCode ?? 0;
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value])
                responseHeaders.append(name, item);
            }
            const decoded = decode(response, responseHeaders.get("content-encoding"));
            if (decoded !== response) {
              responseHeaders.delete("content-encoding");
              responseHeaders.delete("content-length");
            }
            const chunks: Buffer[] = [];
            decoded.on("data", (chunk: Buffer) => chunks.push(chunk));
            decoded.on("error", (error) => fail(connectFailure(error, target)));
            decoded.on("end", () => {
              const noBody = status === 204 || status === 205 || status === 304 || init.method === "HEAD";
              settle(
                new Response(noBody ? null : Buffer.concat(chunks), {
                  status,
                  statusText: response.statusMessage,
                  headers: responseHeaders,
                }),
              );
            });
          },
        );
        let refusedToSend: unknown;
        const sendNow = () => {
          try {
            init.beforeSend?.();
          } catch (error) {
            refusedToSend = error;
            request.destroy(error as Error);
            return;
          }
          request.end(body);
        };
        request.on("socket", (socket) => {
          // A kept-alive connection is open: send. A new one sends once connected (and, for HTTPS, secured).
          const connected = url.protocol === "https:" ? "secureConnect" : "connect";
          if (init.beforeSend) {
            if (request.reusedSocket) sendNow();
            else socket.once(connected, sendNow);
          }
          if (!socket.connecting) return;
          const timer = setTimeout(
            () => request.destroy(new OutboundConnectError(target, false)),
            options.connectTimeoutMs ?? 10_000,
          );
          socket.once(connected, () => clearTimeout(timer));
          socket.once("close", () => clearTimeout(timer));
        });
        request.on("error", (error: NodeJS.ErrnoException) => {
          if (refusedToSend !== undefined) fail(refusedToSend);
          else if (mayResend && request.reusedSocket && error.code === "ECONNRESET") settle(exchange(false));
          else fail(connectFailure(error, target));
        });
        if (!init.beforeSend) request.end(body);
      });
    return exchange(true);
  };
}

function bodyBytes(body: RequestInit["body"]): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError("pinned fetch sends string or byte bodies only");
}

function decode(response: http.IncomingMessage, encoding: string | null): Readable {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
      return response.pipe(zlib.createGunzip());
    case "deflate":
      return response.pipe(zlib.createInflate());
    case "br":
      return response.pipe(zlib.createBrotliDecompress());
    default:
      return response;
  }
}

function connectFailure(error: Error & { code?: string }, target: string): Error {
  if (error instanceof OutboundConnectError) return new OutboundConnectError(target, error.refusedByPolicy);
  if (error.name === "AbortError" || (error.code && PASSED_THROUGH.test(error.code))) return error;
  return new OutboundConnectError(target, false);
}
