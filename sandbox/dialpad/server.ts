import { createHash } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { DialpadCompany, type ListOrder, type ListQuery, type ListResult } from "./company";
import { badRequest, ScimError, scimErrorBody } from "./errors";
import { renderCompanyPage } from "./html";
import { isObject, type Json, type JsonObject } from "./json";
import { parseProjection, project, type Projection } from "./projection";
import { TokenBucket, type RateLimitSettings } from "./rate-limit";
import { resourceTypes, schemaResources, serviceProviderConfig } from "./schemas";
import { RefusedAttributes } from "./refused-attributes";
import { persistCompany } from "./saved-state";
import { CORE_GROUP, CORE_USER, LIST_RESPONSE, SEARCH_REQUEST } from "./urns";

export { DialpadCompany } from "./company";
export type { DialpadGroup, DialpadOffice, DialpadUser } from "./company";

export interface DialpadEmulatorOptions {
  host?: string;
  port?: number;
  tls?: { cert: string; key: string };
  apiKeys?: { key: string; expiresAt?: Date; name?: string }[];
  offices?: string[];
  rateLimit?: { requestsPerSecond: number; burst?: number } | null;
  latencyMs?: number;
  errorRate?: number;
  /** Keeps the company's users and groups in this file across restarts (see saved-state.ts). */
  stateFile?: string;
}

export interface ScimRequestRecord {
  /** ISO timestamp of arrival. */
  at: string;
  method: string;
  path: string;
  /** Query parameters; an `apikey` parameter is redacted. */
  query: Record<string, string>;
  /** Parsed JSON body, the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  status: number;
  durationMs: number;
}

export type EmulatorKnobs = Partial<Pick<DialpadEmulatorOptions, "rateLimit" | "latencyMs" | "errorRate">> & {
  burst5xx?: number;
  /** Attributes a write may not touch (400, nothing applied), as a strict RFC 7644 server; see README. */
  refuseAttributes?: string[];
  /** Leave the refused attributes out of /Schemas too, as a server that does not support them would. */
  hideRefusedAttributes?: boolean;
  /** "lastModified": listings come in order of last change, so an update during a listing moves a user. */
  listOrder?: ListOrder;
  /** GET /Users or /Groups without a filter answers 400 tooMany, as servers that refuse full listings do. */
  refuseUnfilteredLists?: boolean;
};

export interface RunningDialpadEmulator {
  url: string;
  port: number;
  company: DialpadCompany;
  requests: ScimRequestRecord[];
  configure(knobs: EmulatorKnobs): void;
  close(): Promise<void>;
}

/** A fixed key for the sandbox company; it guards nothing real. */
export const SANDBOX_DIALPAD_KEY = "dpsbx_5f2c9e0a7b4d41c8a6e3f1b0d9c8e7a6";

export const REQUEST_LOG_LIMIT = 100_000;
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const SCIM_CONTENT_TYPE = "application/scim+json";
const DEFAULT_RATE_LIMIT: RateLimitSettings = { requestsPerSecond: 20 };

interface KeyEntry {
  name?: string;
  expiresAt?: Date;
}

const hashKey = (key: string): string => createHash("sha256").update(key).digest("hex");

const ZKnobs = z
  .object({
    rateLimit: z
      .object({ requestsPerSecond: z.number().positive(), burst: z.number().int().positive().optional() })
      .strict()
      .nullable()
      .optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    burst5xx: z.number().int().min(0).optional(),
    refuseAttributes: z.array(z.string().trim().min(1)).optional(),
    hideRefusedAttributes: z.boolean().optional(),
    listOrder: z.enum(["created", "lastModified"]).optional(),
    refuseUnfilteredLists: z.boolean().optional(),
  })
  .strict();

const ZNewKey = z
  .object({
    key: z.string().min(8),
    name: z.string().optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** Starts Dialpad's SCIM 2.0 API (tenant URL `${url}/scim`) with its documented quirks; see README.md. */
export async function startDialpadEmulator(
  options: DialpadEmulatorOptions = {},
): Promise<RunningDialpadEmulator> {
  const host = options.host ?? "127.0.0.1";
  const company = new DialpadCompany({ ...(options.offices ? { offices: options.offices } : {}) });
  const saved = options.stateFile ? persistCompany(company, options.stateFile) : undefined;
  const requests: ScimRequestRecord[] = [];
  const keys = new Map<string, KeyEntry>();
  for (const k of options.apiKeys ?? [{ key: SANDBOX_DIALPAD_KEY, name: "Sandbox key" }]) {
    keys.set(hashKey(k.key), {
      ...(k.name ? { name: k.name } : {}),
      ...(k.expiresAt ? { expiresAt: k.expiresAt } : {}),
    });
  }

  let rateLimit: RateLimitSettings | null =
    options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  let bucket = rateLimit ? new TokenBucket(rateLimit) : null;
  let latencyMs = 0;
  let errorRate = 0;
  let burst5xx = 0;
  let refused = new RefusedAttributes([]);
  let hideRefused = false;
  let refuseUnfilteredLists = false;

  function configure(knobs: EmulatorKnobs): void {
    const parsed = ZKnobs.parse(knobs);
    if (parsed.rateLimit !== undefined) {
      rateLimit = parsed.rateLimit;
      bucket = rateLimit ? new TokenBucket(rateLimit) : null;
    }
    if (parsed.latencyMs !== undefined) latencyMs = parsed.latencyMs;
    if (parsed.errorRate !== undefined) errorRate = parsed.errorRate;
    if (parsed.burst5xx !== undefined) burst5xx = parsed.burst5xx;
    if (parsed.refuseAttributes !== undefined) refused = new RefusedAttributes(parsed.refuseAttributes);
    if (parsed.hideRefusedAttributes !== undefined) hideRefused = parsed.hideRefusedAttributes;
    if (parsed.listOrder !== undefined) company.listOrder = parsed.listOrder;
    if (parsed.refuseUnfilteredLists !== undefined) refuseUnfilteredLists = parsed.refuseUnfilteredLists;
  }
  configure({
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    ...(options.errorRate !== undefined ? { errorRate: options.errorRate } : {}),
  });

  const config = () => ({
    rateLimit,
    latencyMs,
    errorRate,
    burst5xxRemaining: burst5xx,
    refuseAttributes: refused.names,
    hideRefusedAttributes: hideRefused,
    listOrder: company.listOrder,
    refuseUnfilteredLists,
  });

  function record(entry: ScimRequestRecord): void {
    requests.push(entry);
    // V8 left-trims large arrays on shift(), so this stays cheap at the 100k bound.
    while (requests.length > REQUEST_LOG_LIMIT) requests.shift();
  }

  function authenticate(req: IncomingMessage, url: URL): void {
    const header = req.headers.authorization;
    let key: string | null;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthorized("The Authorization header must be 'Bearer <API key>'");
      key = match[1] ?? null;
    } else {
      key = url.searchParams.get("apikey");
    }
    if (!key) throw unauthorized("An API key is required (Authorization: Bearer <key> or ?apikey=<key>)");
    const entry = keys.get(hashKey(key));
    // Never echo the key: logs and error bodies end up in places keys must not.
    if (!entry) throw unauthorized("The API key is not valid for this company");
    if (entry.expiresAt && entry.expiresAt.getTime() <= Date.now()) {
      throw unauthorized(
        `The API key${entry.name ? ` '${entry.name}'` : ""} expired on ${entry.expiresAt.toISOString()}; create a new key in Dialpad`,
      );
    }
  }

  async function handleScim(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: Buffer | null,
  ): Promise<void> {
    const started = performance.now();
    const arrivedAt = new Date();
    const headers: Record<string, string> = {};
    let status: number;
    let payload: unknown;
    let body: unknown = raw?.toString("utf8");
    let bodyError: ScimError | undefined;
    try {
      body = parseBody(req, raw);
    } catch (error) {
      bodyError = toScimError(error);
    }
    try {
      // A burst of 503s stands for the load balancer in front of Dialpad, so it comes before auth.
      if (burst5xx > 0) {
        burst5xx--;
        throw new ScimError(503, "Service Unavailable");
      }
      authenticate(req, url);
      if (bucket && rateLimit) {
        const taken = bucket.take();
        headers["X-RateLimit-Limit"] = String(rateLimit.requestsPerSecond);
        headers["X-RateLimit-Remaining"] = String(taken.remaining);
        if (!taken.ok) {
          throw new ScimError(
            429,
            "Too many requests: the company's API rate limit was exceeded",
            undefined,
            {
              "Retry-After": String(taken.retryAfterSeconds),
            },
          );
        }
      }
      if (errorRate > 0 && Math.random() < errorRate) throw new ScimError(500, "Internal Server Error");
      if (bodyError) throw bodyError;
      const result = route(req, url, body);
      status = result.status;
      payload = result.body;
      Object.assign(headers, result.headers ?? {});
    } catch (error) {
      const scim = toScimError(error);
      status = scim.status;
      payload = scim.toJSON();
      Object.assign(headers, scim.headers);
      if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="Dialpad SCIM"';
    }
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    send(res, status, payload, { "Content-Type": SCIM_CONTENT_TYPE, ...headers });
    record({
      at: arrivedAt.toISOString(),
      method: req.method ?? "GET",
      path: url.pathname,
      query: redactQuery(url.searchParams),
      body,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
  }

  interface Result {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
  }

  function route(req: IncomingMessage, url: URL, body: unknown): Result {
    const method = req.method ?? "GET";
    let segments: string[];
    try {
      segments = url.pathname
        .slice("/scim".length)
        .split("/")
        .filter((s) => s !== "")
        .map((s) => decodeURIComponent(s));
    } catch {
      throw new ScimError(404, "Malformed resource path");
    }
    const [collection, id, extra] = segments;
    const base = company.baseUrl;
    const params = queryParams(url.searchParams, req.headers);
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) {
        throw new ScimError(405, `${method} is not supported on ${url.pathname}`, undefined, {
          Allow: methods.join(", "),
        });
      }
    };
    if (extra !== undefined || collection === undefined)
      throw new ScimError(404, `No SCIM endpoint at ${url.pathname}`);

    switch (collection.toLowerCase()) {
      case "serviceproviderconfig":
        if (id !== undefined) break;
        allow("GET");
        return { status: 200, body: serviceProviderConfig(base) };
      case "schemas": {
        allow("GET");
        const all = schemaResources(base, hideRefused ? refused : undefined);
        if (id === undefined) return { status: 200, body: listResponse(all, all.length, 1) };
        const found = all.find((s) => s.id === id);
        if (!found) throw new ScimError(404, `Schema ${id} not found`);
        return { status: 200, body: found };
      }
      case "resourcetypes": {
        allow("GET");
        const all = resourceTypes(base);
        if (id === undefined) return { status: 200, body: listResponse(all, all.length, 1) };
        const found = all.find((r) => r.id === id);
        if (!found) throw new ScimError(404, `ResourceType ${id} not found`);
        return { status: 200, body: found };
      }
      case "bulk":
        throw new ScimError(501, "Dialpad does not support SCIM bulk operations");
      case "me":
        throw new ScimError(501, "The /Me endpoint is not supported");
      case "users":
        return resourceRoute("User", method, id, body, params, allow);
      case "groups":
        return resourceRoute("Group", method, id, body, params, allow);
    }
    throw new ScimError(404, `No SCIM endpoint at ${url.pathname}`);
  }

  function resourceRoute(
    type: "User" | "Group",
    method: string,
    id: string | undefined,
    body: unknown,
    params: QueryParams,
    allow: (...methods: string[]) => void,
  ): Result {
    const c = company;
    const isUser = type === "User";
    const render = (resource: JsonObject, projection: Projection): JsonObject =>
      project(resource, projection);
    const one = (status: number, resource: JsonObject, projection: Projection): Result => {
      const meta = resource.meta as JsonObject;
      const headers: Record<string, string> = { ETag: String(meta.version) };
      if (status === 201) headers.Location = String(meta.location);
      return { status, body: render(resource, projection), headers };
    };
    const toScim = (id: string, projection: Projection): JsonObject =>
      isUser ? c.toScimUser(c.getUser(id), projection) : c.toScimGroup(c.getGroup(id), projection);
    const list = (query: ListQuery, projection: Projection): Result => {
      if (refuseUnfilteredLists && !query.filter) {
        throw badRequest("tooMany", "Listing every resource is not supported; use a filter");
      }
      const result: ListResult<{ id: string }> = isUser ? c.listUsers(query) : c.listGroups(query);
      const resources = result.resources.map((r) => render(toScim(r.id, projection), projection));
      return { status: 200, body: listResponse(resources, result.totalResults, result.startIndex) };
    };

    if (id === undefined) {
      allow("GET", "POST");
      const projection = parseProjection(params.get("attributes"), params.get("excludedAttributes"));
      if (method === "GET") return list(listQuery(params), projection);
      refused.checkResource(isUser ? CORE_USER : CORE_GROUP, body);
      const created = isUser ? c.createUser(body) : c.createGroup(body);
      return one(201, toScim(created.id, projection), projection);
    }
    if (id === ".search") {
      allow("POST");
      const search = parseSearch(body);
      return list(search.query, search.projection);
    }

    allow("GET", "PUT", "PATCH", "DELETE");
    const ifMatch = params.header("if-match");
    const projection = parseProjection(params.get("attributes"), params.get("excludedAttributes"));
    switch (method) {
      case "GET": {
        const resource = toScim(id, projection);
        const meta = resource.meta as JsonObject;
        const ifNoneMatch = params.header("if-none-match");
        if (
          ifNoneMatch !== undefined &&
          ifNoneMatch.split(",").some((t) => t.trim() === meta.version || t.trim() === "*")
        ) {
          return { status: 304, headers: { ETag: String(meta.version) } };
        }
        return one(200, resource, projection);
      }
      case "PUT": {
        refused.checkResource(isUser ? CORE_USER : CORE_GROUP, body);
        const updated = isUser ? c.replaceUser(id, body, ifMatch) : c.replaceGroup(id, body, ifMatch);
        return one(200, toScim(updated.id, projection), projection);
      }
      case "PATCH": {
        refused.checkPatch(isUser ? CORE_USER : CORE_GROUP, body);
        const updated = isUser ? c.patchUser(id, body, ifMatch) : c.patchGroup(id, body, ifMatch);
        // Group PATCH answers 204 (Entra's documented expectation), so member lists are not re-sent;
        // asking for attributes explicitly gets the RFC 7644 §3.5.2 200-with-resource form.
        if (!isUser && params.get("attributes") === null && params.get("excludedAttributes") === null) {
          return {
            status: 204,
            headers: { ETag: String((toScim(updated.id, { attributes: [] }).meta as JsonObject).version) },
          };
        }
        return one(200, toScim(updated.id, projection), projection);
      }
      default:
        if (isUser) c.deleteUser(id, ifMatch);
        else c.deleteGroup(id, ifMatch);
        return { status: 204 };
    }
  }

  function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer | null): void {
    const method = req.method ?? "GET";
    const json = (status: number, payload?: unknown) =>
      send(res, status, payload, { "Content-Type": "application/json" });
    const readJson = (): unknown => {
      const text = raw?.toString("utf8") ?? "";
      return text.trim() === "" ? {} : JSON.parse(text);
    };
    try {
      switch (`${method} ${url.pathname.replace(/\/+$/, "")}`) {
        case "GET /_sandbox/state":
          return json(200, {
            ...company.summary(),
            tenantUrl: company.baseUrl,
            config: config(),
            keys: [...keys.values()].map((k) => ({
              name: k.name ?? null,
              expiresAt: k.expiresAt?.toISOString() ?? null,
              expired: k.expiresAt ? k.expiresAt.getTime() <= Date.now() : false,
            })),
            requestsLogged: requests.length,
          });
        case "GET /_sandbox/requests": {
          const last = Number(url.searchParams.get("last") ?? NaN);
          const shown =
            Number.isInteger(last) && last >= 0
              ? requests.slice(Math.max(0, requests.length - last))
              : requests;
          return json(200, { total: requests.length, requests: shown });
        }
        case "DELETE /_sandbox/requests":
          requests.length = 0;
          return json(204);
        case "GET /_sandbox/config":
          return json(200, config());
        case "PUT /_sandbox/config": {
          const knobs = ZKnobs.safeParse(readJson());
          if (!knobs.success) return json(400, { error: z.prettifyError(knobs.error) });
          configure(knobs.data as EmulatorKnobs);
          return json(200, config());
        }
        case "POST /_sandbox/reset":
          company.reset();
          requests.length = 0;
          if (rateLimit) bucket = new TokenBucket(rateLimit);
          burst5xx = 0;
          return json(204);
        case "POST /_sandbox/keys": {
          const parsed = ZNewKey.safeParse(readJson());
          if (!parsed.success) return json(400, { error: z.prettifyError(parsed.error) });
          const { key, name, expiresAt } = parsed.data;
          const entry: KeyEntry = {
            ...(name ? { name } : {}),
            ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
          };
          keys.set(hashKey(key), entry);
          return json(201, { name: entry.name ?? null, expiresAt: entry.expiresAt?.toISOString() ?? null });
        }
        default:
          return json(404, { error: `No sandbox endpoint ${method} ${url.pathname}` });
      }
    } catch (error) {
      if (error instanceof SyntaxError) return json(400, { error: "The body is not valid JSON" });
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const raw = await readBody(req);
    const path = url.pathname;
    if (path === "/scim" || path.startsWith("/scim/")) {
      if (raw === "too-large") {
        send(res, 413, scimErrorBody(413, `The request body exceeds ${MAX_BODY_BYTES} bytes`), {
          "Content-Type": SCIM_CONTENT_TYPE,
        });
        return;
      }
      await handleScim(req, res, url, raw);
      return;
    }
    if (path === "/api/v2/offices" || path === "/api/v2/offices/") {
      // Dialpad's REST API (same API key as SCIM): the pre-flight check reads office names from it.
      try {
        if (req.method !== "GET") throw new ScimError(405, `${req.method ?? ""} is not supported on ${path}`);
        authenticate(req, url);
      } catch (error) {
        const status = error instanceof ScimError ? error.status : 500;
        send(
          res,
          status,
          { error: { code: status, message: error instanceof Error ? error.message : "error" } },
          {
            "Content-Type": "application/json",
          },
        );
        return;
      }
      send(
        res,
        200,
        {
          items: company.offices.map((office, index) => ({
            id: office.id,
            name: office.name,
            state: "active",
            country: office.country ?? null,
            is_primary_office: index === 0,
          })),
        },
        { "Content-Type": "application/json" },
      );
      return;
    }
    if (path === "/" || path.startsWith("/_sandbox/")) {
      // The admin surface and the page carry no auth, so only the local machine may use them.
      if (!isLoopback(req.socket.remoteAddress)) {
        send(
          res,
          403,
          { error: "The sandbox admin endpoints are available from this machine only" },
          {
            "Content-Type": "application/json",
          },
        );
        return;
      }
      if (raw === "too-large") {
        send(res, 413, { error: "Body too large" }, { "Content-Type": "application/json" });
        return;
      }
      if (path === "/") {
        if (req.method !== "GET" && req.method !== "HEAD") {
          send(res, 405, "Method not allowed", { "Content-Type": "text/plain", Allow: "GET, HEAD" });
          return;
        }
        const pageNumber = Number.parseInt(url.searchParams.get("page") ?? "1", 10);
        send(res, 200, renderCompanyPage(company, Number.isFinite(pageNumber) ? pageNumber : 1), {
          "Content-Type": "text/html; charset=utf-8",
          "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
          "X-Content-Type-Options": "nosniff",
        });
        return;
      }
      handleAdmin(req, res, url, raw);
      return;
    }
    send(res, 404, "Not found. The Dialpad SCIM API is at /scim; the sandbox page is at /.", {
      "Content-Type": "text/plain",
    });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const detail = error instanceof Error ? error.message : "Internal error";
      send(res, 500, scimErrorBody(500, `Emulator error: ${detail}`), { "Content-Type": SCIM_CONTENT_TYPE });
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? "https" : "http"}://${urlHost(host, Boolean(options.tls))}:${port}`;
  company.baseUrl = `${url}/scim`;

  return {
    url,
    port,
    company,
    requests,
    configure,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await saved?.flush();
    },
  };
}

// -------------------------------------------------------------------- helpers

function unauthorized(detail: string): ScimError {
  return new ScimError(401, detail);
}

function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  const detail = error instanceof Error ? error.message : "Internal error";
  return new ScimError(500, `Emulator error: ${detail}`);
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
  if (status === 204 || status === 304 || payload === undefined) {
    const { "Content-Type": _ignored, ...rest } = headers;
    res.writeHead(status, rest);
    res.end();
    return;
  }
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  res.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(text)) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | null | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(buffer);
  }
  if (tooLarge) return "too-large";
  return size === 0 ? null : Buffer.concat(chunks);
}

/** Accepts application/scim+json and application/json (RFC 7644 §3.8); anything else is refused. */
function parseBody(req: IncomingMessage, raw: Buffer | null): Json | undefined {
  if (raw === null) return undefined;
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/scim+json" && type !== "application/json") {
    throw new ScimError(415, "Send the body as application/scim+json or application/json");
  }
  try {
    return JSON.parse(raw.toString("utf8")) as Json;
  } catch {
    throw badRequest("invalidSyntax", "The request body is not valid JSON");
  }
}

function listResponse(resources: unknown[], totalResults: number, startIndex: number) {
  return {
    schemas: [LIST_RESPONSE],
    totalResults,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}

interface QueryParams {
  get(name: string): string | null;
  header(name: string): string | undefined;
}

/** Query parameter names compared case-insensitively, like SCIM attribute names; plus request headers. */
function queryParams(search: URLSearchParams, headers: IncomingHttpHeaders): QueryParams {
  const lower = new Map<string, string>();
  for (const [k, v] of search) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);
  return {
    get: (name) => lower.get(name.toLowerCase()) ?? null,
    header: (name) => {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

function integerParam(params: QueryParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw.trim() === "") return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw badRequest("invalidValue", `${name} must be an integer`);
  return Number(raw);
}

function listQuery(params: QueryParams): ListQuery {
  const query: ListQuery = { filter: params.get("filter") };
  const startIndex = integerParam(params, "startIndex");
  const count = integerParam(params, "count");
  if (startIndex !== undefined) query.startIndex = startIndex;
  if (count !== undefined) query.count = count;
  return query;
}

/** POST /Users/.search (RFC 7644 §3.4.3). */
function parseSearch(body: unknown): { query: ListQuery; projection: Projection } {
  if (!isObject(body)) throw badRequest("invalidSyntax", "The search body must be a JSON object");
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(SEARCH_REQUEST)) {
    throw badRequest("invalidSyntax", `The search body must list the schema ${SEARCH_REQUEST}`);
  }
  const names = (v: Json | undefined) =>
    Array.isArray(v) ? v.map(String).join(",") : typeof v === "string" ? v : null;
  const query: ListQuery = { filter: typeof body.filter === "string" ? body.filter : null };
  if (typeof body.startIndex === "number") query.startIndex = Math.trunc(body.startIndex);
  if (typeof body.count === "number") query.count = Math.trunc(body.count);
  return { query, projection: parseProjection(names(body.attributes), names(body.excludedAttributes)) };
}

function redactQuery(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) out[k] = k.toLowerCase() === "apikey" ? "[redacted]" : v;
  return out;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

function urlHost(host: string, tls: boolean): string {
  const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
  // The sandbox certificate names localhost; wildcard binds are reached through loopback.
  const name =
    tls && loopback ? "localhost" : host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return name.includes(":") ? `[${name}]` : name;
}
