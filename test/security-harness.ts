import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { Writable } from "node:stream";
import { inject } from "vitest";
import { resetEnvironmentCache } from "@/lib/config/env";
import { resetServerContext, serverContext } from "@/lib/server/context";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { SecretBox } from "@/lib/crypto/secrets";
import { JobWorker } from "@/lib/jobs/runner";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { createLogger } from "@/lib/log";
import { API, type ApiDefinition } from "@/lib/server/api-definitions";
import { createMailer } from "@/lib/notify/mailer";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { createTestDatabase, type TestDatabase } from "./database";

/**
 * What the API security tests share: the sandbox, a real PostgreSQL, a worker, real tokens, every
 * process log line captured (at trace level) so a test can scan it, and the route handler of every
 * operation in `API`, found from its path, so a route added to `API` is covered without editing tests.
 */
export type OperationId = keyof typeof API;
export type Handler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

export interface Harness {
  sandbox: RunningSandbox;
  t: TestDatabase;
  worker: JobWorker;
  box: SecretBox;
  connectionId: string;
  tokens: Record<"admin" | "reader" | "norole", string>;
  /** Everything the web and worker loggers wrote. */
  logText(): string;
  log: ReturnType<typeof createLogger>;
  mailer: ReturnType<typeof createMailer>;
  close(): Promise<void>;
}

export async function startHarness(name: string): Promise<Harness> {
  const sandbox = await startSandbox({
    dataDir: os.tmpdir(),
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
  });
  const t = await createTestDatabase();
  const secretKey = crypto.randomBytes(32).toString("base64");
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    SANDBOX: "on",
    SECRET_KEY: secretKey,
    DATA_DIR: path.join(os.tmpdir(), `provisioning-${name}`),
    AUTH_AUTHORITY: sandbox.runtime.identity.authority,
    AUTH_ISSUER: sandbox.runtime.identity.issuer,
    AUTH_JWKS_URI: sandbox.runtime.identity.jwksUri,
    AUTH_API_AUDIENCE: sandbox.runtime.console.apiAudience,
    LOG_LEVEL: "trace",
  });
  resetEnvironmentCache();
  resetServerContext();
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ name: "web", level: "trace", destination });
  // The route handlers' logger: the real one, writing to the buffer instead of stdout.
  serverContext().log = log;
  const box = new SecretBox(Buffer.from(secretKey, "base64"));
  const connectionId = await ensureSandboxConnection(t.db, box, sandbox.runtime);
  // These tests press Start themselves; continuous mode would start cycles of its own in between.
  await t.db.connection.update({ where: { id: connectionId }, data: { scheduleMode: "interval" } });
  const mailer = createMailer({
    host: sandbox.runtime.mail.host,
    port: sandbox.runtime.mail.port,
    secure: false,
    from: "Dialpad provisioning <provisioning-noreply@localhost>",
  });
  const workerLog = createLogger({ name: "worker", level: "trace", destination });
  const worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: workerLog,
    pollIntervalMs: 100,
    handlers: createJobHandlers({ db: t.db, log: workerLog, cycle: { mailer, requestsPerSecond: 1_000 } }),
  });
  await worker.start();
  sandbox.dialpad.configure({ rateLimit: null });
  const tokens = {
    admin: await sandbox.identity.issueAccessTokenForTesting("admin@contoso.example"),
    reader: await sandbox.identity.issueAccessTokenForTesting("reader@contoso.example"),
    norole: await sandbox.identity.issueAccessTokenForTesting("norole@contoso.example"),
  };
  return {
    sandbox,
    t,
    worker,
    box,
    connectionId,
    tokens,
    log,
    mailer,
    logText: () => chunks.join(""),
    async close() {
      await worker.stop(1_000);
      await sandbox.close();
      await t.drop();
      resetServerContext();
    },
  };
}

const handlerCache = new Map<OperationId, Handler>();

/** The exported handler implementing an operation: app/api/<path>/route.ts, export <METHOD>. */
export async function handlerFor(operationId: OperationId): Promise<Handler> {
  const cached = handlerCache.get(operationId);
  if (cached) return cached;
  const definition: ApiDefinition = API[operationId];
  const folder = definition.path.replace(/^\/api\//, "").replace(/\{(\w+)\}/g, "[$1]");
  const file = path.resolve("app/api", folder, "route.ts");
  const module = (await import(file)) as Record<string, Handler | undefined>;
  const handler = module[definition.method];
  if (!handler) throw new Error(`${file} does not export ${definition.method} for ${operationId}`);
  handlerCache.set(operationId, handler);
  return handler;
}

export interface ApiResponse {
  status: number;
  contentType: string | null;
  cacheControl: string | null;
  text: string;
  body: Record<string, unknown> | null;
}

/** Calls an operation's route handler as Next.js would: a Request and the path parameters. */
export async function callOperation(
  operationId: OperationId,
  options: {
    token?: string;
    params?: Record<string, string>;
    query?: string;
    body?: unknown;
    /** Sent as is instead of `body` as JSON: text, bytes or a stream (then chunked, with no length). */
    rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
    /** Added to (or replacing) the default `content-type: application/json`. */
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse> {
  const definition: ApiDefinition = API[operationId];
  const params = options.params ?? {};
  const pathname = definition.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  Object.assign(headers, options.headers);
  const handler = await handlerFor(operationId);
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await handler(
    new Request(`http://localhost${pathname}${options.query ? `?${options.query}` : ""}`, {
      method: definition.method,
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit),
    { params: Promise.resolve(params) },
  );
  const text = await response.text();
  const contentType = response.headers.get("content-type");
  return {
    status: response.status,
    contentType,
    cacheControl: response.headers.get("cache-control"),
    text,
    body: text && /json/.test(contentType ?? "") ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}
