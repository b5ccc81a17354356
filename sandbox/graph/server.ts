import { randomUUID } from "node:crypto";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { BodyTooLargeError, isLoopbackAddress, listen, readBody, urlHost } from "../shared/http-server";
import { handleAdmin, type EmulatorConfig } from "./admin-api";
import { SignIn, type ClientRegistration } from "./auth";
import { DIALPAD_SERVICE_PRINCIPAL_ID, Directory } from "./directory";
import { handleGraph, type GraphResponse } from "./graph-api";
import { GraphRequestError } from "./odata";
import { seedDirectory, type SeedOptions } from "./seed";

export { DIALPAD_SERVICE_PRINCIPAL_ID, Directory };
export type { SeedOptions };

export const SANDBOX_TENANT_ID = "4b1e6c2a-9f3d-4e8b-a7c5-0d2f1e3b6a98";
export const SANDBOX_GRAPH_CLIENT: { clientId: string; clientSecret: string } = {
  clientId: "7e2d9a41-5c3b-4f6e-8d1a-2b9c0e4f5a67",
  clientSecret: "sandbox~graph~secret.not-for-production",
};

export interface GraphEmulatorOptions {
  host?: string;
  port?: number;
  tls?: { cert: string; key: string };
  tenantId?: string;
  /** Apps allowed to get client-credential tokens; `roles` (optional) narrows the granted Graph application permissions. */
  clients?: ClientRegistration[];
  seed?: SeedOptions | false;
  rateLimit?: { requestsPerSecond: number } | null;
  latencyMs?: number;
}

export interface RequestRecord {
  at: string;
  method: string;
  /** Path and query as received. */
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  clientRequestId?: string;
}

export interface RunningGraphEmulator {
  url: string;
  port: number;
  directory: Directory;
  close(): Promise<void>;
  /** The most recent requests, oldest first (bounded). */
  requests: RequestRecord[];
  /** Changes the fault knobs at run time, as PUT /_sandbox/config does. */
  configure(knobs: Partial<EmulatorConfig>): void;
  /** Back to the directory the emulator started with (its seed, or empty), as POST /_sandbox/reset does. */
  resetToSeed(): void;
}

const REQUEST_LOG_LIMIT = 1_000;
const GRAPH_CONTENT_TYPE =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/** Graph's innerError date has no fraction and no zone marker. */
function graphDate(): string {
  return new Date().toISOString().slice(0, 19);
}

class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }
  /** Takes a token, or returns the whole seconds to wait before one is available. */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
}

export async function startGraphEmulator(options: GraphEmulatorOptions = {}): Promise<RunningGraphEmulator> {
  const host = options.host ?? "127.0.0.1";
  const tenantId = options.tenantId ?? SANDBOX_TENANT_ID;
  const directory = new Directory();
  const seeded = { value: options.seed !== false };
  if (options.seed !== false) seedDirectory(directory, options.seed ?? {});
  const signIn = await SignIn.create(tenantId, options.clients ?? [SANDBOX_GRAPH_CLIENT]);

  let config: EmulatorConfig = {
    rateLimit: options.rateLimit ?? null,
    latencyMs: options.latencyMs ?? 0,
    burst429: 0,
    burst503: 0,
  };
  let bucket = config.rateLimit ? new TokenBucket(config.rateLimit.requestsPerSecond) : null;
  const setConfig = (next: EmulatorConfig) => {
    const isNewRate = next.rateLimit?.requestsPerSecond !== config.rateLimit?.requestsPerSecond;
    config = next;
    if (isNewRate) bucket = next.rateLimit ? new TokenBucket(next.rateLimit.requestsPerSecond) : null;
  };
  const requests: RequestRecord[] = [];
  let origin = "";

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = performance.now();
    const requestId = randomUUID();
    const clientRequestIdHeader = req.headers["client-request-id"];
    const clientRequestId = typeof clientRequestIdHeader === "string" ? clientRequestIdHeader : requestId;
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, origin);

    const send = (
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
      text?: string,
    ): void => {
      const payload = text ?? (body === undefined ? "" : JSON.stringify(body));
      res.writeHead(status, {
        "request-id": requestId,
        "client-request-id": clientRequestId,
        ...(payload
          ? {
              "content-type":
                text !== undefined ? "text/plain;charset=utf-8" : "application/json; charset=utf-8",
            }
          : {}),
        ...headers,
      });
      res.end(method === "HEAD" ? undefined : payload);
      const record: RequestRecord = {
        at: new Date().toISOString(),
        method,
        path: rawUrl,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        requestId,
      };
      if (typeof clientRequestIdHeader === "string") record.clientRequestId = clientRequestIdHeader;
      requests.push(record);
      if (requests.length > REQUEST_LOG_LIMIT) requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
    };
    const graphError = (
      status: number,
      code: string,
      message: string,
      headers: Record<string, string> = {},
    ): void => {
      send(
        status,
        {
          error: {
            code,
            message,
            innerError: { date: graphDate(), "request-id": requestId, "client-request-id": clientRequestId },
          },
        },
        { "content-type": GRAPH_CONTENT_TYPE, ...headers },
      );
    };

    try {
      // ----- sandbox control API -----
      if (url.pathname === "/_sandbox" || url.pathname.startsWith("/_sandbox/")) {
        if (!isLoopbackAddress(req.socket.remoteAddress)) {
          send(403, {
            error: { code: "Forbidden", message: "The sandbox admin API answers loopback clients only." },
          });
          return;
        }
        const text = method === "GET" || method === "HEAD" ? "" : await readBody(req, 2_000_000);
        let body: unknown;
        if (text) {
          try {
            body = JSON.parse(text);
          } catch {
            send(400, { error: { code: "InvalidRequest", message: "The request body is not valid JSON." } });
            return;
          }
        }
        const result = handleAdmin(
          { directory, getConfig: () => config, setConfig, requests: () => requests, seeded },
          method,
          url,
          body,
        );
        send(result.status, result.body);
        return;
      }

      if (config.latencyMs > 0) await sleep(config.latencyMs);

      // ----- sign-in (login.microsoftonline.com layout) -----
      const signInMatch =
        /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(
          url.pathname,
        );
      if (signInMatch && signInMatch[1] !== "v1.0" && signInMatch[1] !== "_sandbox") {
        const tenant = decodeURIComponent(signInMatch[1]!);
        const endpoint = signInMatch[2]!;
        if (endpoint === "oauth2/v2.0/token") {
          if (method !== "POST") {
            const e = signIn.aadError(
              400,
              "invalid_request",
              900561,
              "The endpoint only accepts POST requests.",
            );
            send(e.status, e.body);
            return;
          }
          const form = new URLSearchParams(await readBody(req, 100_000));
          const result = await signIn.token(tenant, form, req.headers.authorization);
          send(result.status, result.body, { "cache-control": "no-store, no-cache", pragma: "no-cache" });
          return;
        }
        if (!signIn.knowsTenant(tenant)) {
          const e = signIn.unknownTenant(tenant);
          send(e.status, e.body);
          return;
        }
        if (endpoint === "discovery/v2.0/keys") send(200, signIn.jwks(origin));
        else send(200, signIn.openIdConfiguration(origin, tenant));
        return;
      }

      // ----- Microsoft Graph -----
      if (url.pathname === "/v1.0" || url.pathname.startsWith("/v1.0/")) {
        // Fault bursts come before throttling and auth, as Graph's front door sends them.
        if (config.burst429 > 0) {
          config.burst429 -= 1;
          graphError(429, "TooManyRequests", "Too many requests. Please retry after 1 second.", {
            "retry-after": "1",
          });
          return;
        }
        if (config.burst503 > 0) {
          config.burst503 -= 1;
          graphError(503, "ServiceUnavailable", "The service is temporarily unavailable.", {
            "retry-after": "1",
          });
          return;
        }
        if (bucket) {
          const wait = bucket.take();
          if (wait > 0) {
            graphError(
              429,
              "TooManyRequests",
              `Too many requests. Please retry after ${wait} second${wait === 1 ? "" : "s"}.`,
              { "retry-after": String(wait) },
            );
            return;
          }
        }
        const check = await signIn.verify(req.headers.authorization);
        if (!check.ok) {
          graphError(401, "InvalidAuthenticationToken", check.message, {
            "www-authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
          });
          return;
        }
        // Graph's actions (getAvailableExtensionProperties) take a JSON body; reads take none.
        const bodyText = method === "POST" ? await readBody(req, 64_000) : "";
        let requestBody: unknown;
        if (bodyText.trim()) {
          try {
            requestBody = JSON.parse(bodyText);
          } catch {
            graphError(400, "BadRequest", "Unable to read JSON request payload. The body is not valid JSON.");
            return;
          }
        }
        const response: GraphResponse = handleGraph(
          { directory, origin },
          method,
          url,
          req.headers,
          check.token,
          requestBody,
        );
        if (response.text !== undefined)
          send(response.status, undefined, response.headers ?? {}, response.text);
        else
          send(response.status, response.body, {
            "content-type": GRAPH_CONTENT_TYPE,
            "odata-version": "4.0",
            ...(response.headers ?? {}),
          });
        return;
      }

      graphError(
        400,
        "BadRequest",
        `Invalid version: the path must start with /v1.0 (got '${url.pathname}').`,
      );
    } catch (error) {
      if (error instanceof GraphRequestError)
        graphError(error.status, error.code, error.message, error.headers);
      else if (error instanceof BodyTooLargeError) graphError(413, "RequestEntityTooLarge", error.message);
      else graphError(500, "InternalServerError", error instanceof Error ? error.message : String(error));
    }
  };

  const listening = await listen({ host, port: options.port ?? 0, tls: options.tls }, handler);
  const loopback =
    host === "127.0.0.1" || host === "::1" || host === "localhost" || host === "0.0.0.0" || host === "::";
  // TLS certificates for the sandbox are issued to "localhost" (MSAL's knownAuthorities use it too);
  // plain HTTP keeps the literal address so no name resolution is involved.
  const publicHost = loopback
    ? options.tls
      ? "localhost"
      : host === "::" || host === "::1"
        ? "[::1]"
        : "127.0.0.1"
    : urlHost(host);
  origin = `${options.tls ? "https" : "http"}://${publicHost}:${listening.port}`;

  return {
    url: origin,
    port: listening.port,
    directory,
    requests,
    configure: (knobs) => setConfig({ ...config, ...knobs }),
    resetToSeed() {
      directory.reset();
      if (options.seed !== false) seedDirectory(directory, options.seed ?? {});
      seeded.value = options.seed !== false;
    },
    close: () => listening.close(),
  };
}
