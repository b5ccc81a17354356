import { createAccessTokenVerifier, type Principal } from "../auth/verify-token";
import { env, isSandboxEnabled, type Environment } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import { getDb, type Database } from "../db/client";
import { createLogger } from "../log";
import { AppError } from "./errors";

export interface ServerContext {
  db: Database;
  settings: Environment;
  box: SecretBox;
  isSandbox: boolean;
  verifyAuthorization(header: string | null): Promise<Principal>;
  log: ReturnType<typeof createLogger>;
}

const holder = globalThis as unknown as { __provisioningServerContext?: ServerContext };

/** Process-wide services for route handlers, created on first use from the validated settings. */
export function serverContext(): ServerContext {
  if (holder.__provisioningServerContext) return holder.__provisioningServerContext;
  const settings = env();
  const { AUTH_ISSUER, AUTH_API_AUDIENCE, AUTH_JWKS_URI } = settings;
  if (!AUTH_ISSUER || !AUTH_API_AUDIENCE || !AUTH_JWKS_URI) {
    throw new AppError(
      "not_configured",
      "Sign-in is not configured: set AUTH_ISSUER, AUTH_API_AUDIENCE and AUTH_JWKS_URI.",
    );
  }
  const verify = createAccessTokenVerifier({
    issuer: AUTH_ISSUER,
    audience: AUTH_API_AUDIENCE,
    jwksUri: AUTH_JWKS_URI,
    allowedTenantIds: settings.AUTH_ALLOWED_TENANT_IDS,
    // The scope the console asks for is the one users' tokens must carry, whatever the API named it.
    requiredScope: settings.AUTH_API_SCOPE,
  });
  holder.__provisioningServerContext = {
    db: getDb(),
    settings,
    box: new SecretBox(loadSecretKey({ secretKey: settings.SECRET_KEY, dataDir: settings.DATA_DIR })),
    isSandbox: isSandboxEnabled(settings),
    verifyAuthorization: (header) => verify(header),
    log: createLogger({ name: "web", level: settings.LOG_LEVEL }),
  };
  return holder.__provisioningServerContext;
}

/** Tests change settings between suites; the next call rebuilds the context from process.env. */
export function resetServerContext(): void {
  delete holder.__provisioningServerContext;
}
