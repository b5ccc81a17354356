import { z } from "zod";

/**
 * Every setting the product reads from the environment, validated in one place. The README's settings
 * table mirrors this schema. Nothing else reads process.env for product settings.
 */
const booleanFromString = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((value) => ["true", "1", "yes", "on"].includes(value));

const csv = z.string().transform((value) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean),
);

export const ZEnvironment = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default("./data"),
  HOST: z.string().default("localhost"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  /** auto: the sandbox runs when no real sign-in authority is configured. */
  SANDBOX: z.enum(["auto", "on", "off"]).default("auto"),
  SANDBOX_PORT_BASE: z.coerce.number().int().min(1024).max(65000).default(3100),

  AUTH_AUTHORITY: z.string().url().optional(),
  AUTH_CLIENT_ID: z.string().min(1).optional(),
  AUTH_API_AUDIENCE: z.string().min(1).optional(),
  AUTH_API_SCOPE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().url().optional(),
  AUTH_JWKS_URI: z.string().url().optional(),
  AUTH_ALLOWED_TENANT_IDS: csv.optional(),
  /** JSON of the authority's openid-configuration, handed to MSAL so the browser skips discovery. */
  AUTH_AUTHORITY_METADATA: z.string().optional(),

  SECRET_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{43,44}$/, "SECRET_KEY must be 32 random bytes, base64-encoded")
    .optional(),
  ALLOW_PRIVATE_TENANT_URLS: booleanFromString.default(false),

  WORKERS: z.coerce.number().int().min(0).max(64).default(1),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** V8 old-space limit of each worker process, in MiB (see workerNodeFlags). */
  WORKER_HEAP_MB: z.coerce.number().int().min(128).max(65_536).default(256),
  JOB_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),

  SMTP_HOST: z.string().optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_SECURE: booleanFromString.default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().default("Dialpad provisioning <provisioning-noreply@localhost>"),

  /** Static bearer token Prometheus may present to /api/metrics instead of an Entra access token. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),

  /** Larger API request bodies are refused with 413 before they are read whole. */
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),

  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Environment = z.infer<typeof ZEnvironment>;

export class ConfigurationError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super("Invalid settings:\n" + issues.map((issue) => `  ${issue.variable}: ${issue.message}`).join("\n"));
    this.name = "ConfigurationError";
  }
}

export function parseEnvironment(source: Record<string, string | undefined>): Environment {
  // Empty strings mean "unset", as shells and .env files commonly produce them.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = ZEnvironment.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigurationError(
      parsed.error.issues.map((issue) => ({ variable: issue.path.join("."), message: issue.message })),
    );
  }
  return parsed.data;
}

let cached: Environment | undefined;

export function env(): Environment {
  cached ??= parseEnvironment(process.env);
  return cached;
}

/**
 * Settings read live rather than from the cached environment: the launcher sets DATABASE_URL and
 * SANDBOX_RUNTIME after start (and tests point suites at their own databases), and a logger may be made
 * before the environment is valid.
 */
export const liveSetting = {
  databaseUrl: (): string | undefined => process.env.DATABASE_URL,
  logLevel: (): string | undefined => process.env.LOG_LEVEL,
  sandboxRuntime: (): string | undefined => process.env.SANDBOX_RUNTIME,
};

export function resetEnvironmentCache(): void {
  cached = undefined;
}

export function isSandboxEnabled(environment: Environment = env()): boolean {
  if (environment.SANDBOX === "on") return true;
  if (environment.SANDBOX === "off") return false;
  return !environment.AUTH_AUTHORITY;
}

/**
 * Node flags a worker process starts with. V8 sizes its heap from the host's memory (about 4 GiB on a
 * 24 GiB host), not from what a worker needs, and under a cycle's allocation rate it grows the heap
 * rather than collect: an uncapped worker peaked near 1 GiB with a working set under 150 MiB. A worker
 * holds a bounded window of a cycle (units of 100 users, a few at a time), so an explicit limit keeps
 * its memory near that window; raise it for very large groups, whose member lists a finalizer reads.
 */
export function workerNodeFlags(environment: Pick<Environment, "WORKER_HEAP_MB">): string[] {
  return [`--max-old-space-size=${environment.WORKER_HEAP_MB}`];
}
