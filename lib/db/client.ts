import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";

export type Database = PrismaClient;
export { PrismaClient };

const holder = globalThis as unknown as { __provisioningDb?: { url: string; client: PrismaClient } };

export interface DatabaseOptions {
  poolSize?: number;
  /** Give up opening a connection (or waiting for a free one in the pool) after this long. */
  connectionTimeoutMs?: number;
  /** Give up waiting for any one statement's answer after this long (client-side: works on a frozen server too). */
  queryTimeoutMs?: number;
}

/**
 * Bounds for the web process's pool. Without them a frozen PostgreSQL (stopped, partitioned, its disk
 * hung) holds every request open until the client gives up; with them a request fails within a few
 * seconds and is answered 503 (lib/db/unavailable.ts). The web process runs short statements only (the
 * log export reads pages of 1000); workers run long transactions and keep node-postgres' defaults.
 */
export const WEB_DATABASE_OPTIONS: DatabaseOptions = { connectionTimeoutMs: 3_000, queryTimeoutMs: 5_000 };

export function createDatabase(databaseUrl: string, options: DatabaseOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    ...(options.connectionTimeoutMs ? { connectionTimeoutMillis: options.connectionTimeoutMs } : {}),
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
  });
  return new PrismaClient({ adapter });
}

/**
 * One PrismaClient per web process, created on first use from DATABASE_URL (which the launcher sets for
 * the embedded server). The Next.js dev server reloads modules, so the instance lives on globalThis;
 * it is rebuilt if DATABASE_URL changes (tests point suites at their own databases).
 */
export function getDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set; start the product with `npm start`, which sets it.");
  if (holder.__provisioningDb?.url !== url) {
    holder.__provisioningDb = { url, client: createDatabase(url, WEB_DATABASE_OPTIONS) };
  }
  return holder.__provisioningDb.client;
}
