import { liveSetting } from "../config/env";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
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
  /**
   * PostgreSQL ends a session that sits this long inside a transaction without sending anything. A
   * worker frozen (SIGSTOP, a stopped VM) in the middle of a fenced write would otherwise keep the row
   * lock on its job forever, and no other worker could take the job over.
   */
  idleInTransactionTimeoutMs?: number;
}

/**
 * Bounds for the web process's pool. Without them a frozen PostgreSQL (stopped, partitioned, its disk
 * hung) holds every request open until the client gives up; with them a request fails within a few
 * seconds and is answered 503 (lib/db/unavailable.ts). The web process runs short statements only (the
 * log export reads pages of 1000); workers run long transactions and keep node-postgres' defaults.
 */
export const WEB_DATABASE_OPTIONS: DatabaseOptions = { connectionTimeoutMs: 3_000, queryTimeoutMs: 5_000 };

export function createDatabase(databaseUrl: string, options: DatabaseOptions = {}): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    ...(options.connectionTimeoutMs ? { connectionTimeoutMillis: options.connectionTimeoutMs } : {}),
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    ...(options.idleInTransactionTimeoutMs
      ? {
          options: `-c idle_in_transaction_session_timeout=${Math.round(options.idleInTransactionTimeoutMs)}`,
        }
      : {}),
  });
  recoverBrokenConnections(pool);
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/**
 * Keeps the pool whole through database outages. Prisma hands a transaction's connection back only
 * after its COMMIT or ROLLBACK succeeds, so a connection that breaks mid-transaction (server killed,
 * statement timed out) would stay checked out for good: each outage would cost pool slots until
 * nothing could run. A checked-out connection that closes is therefore released (and so discarded).
 *
 * And node-postgres answers a timed-out statement with an error but leaves it running on the
 * connection; inside a transaction, once the server answered again, the next caller's statements
 * would run (and be lost) inside that still-open transaction. A connection whose statement timed out
 * is closed instead (`end()` drops a connection with a statement in flight at once; the server rolls
 * its transaction back), and the pool opens a new one when needed.
 */
function recoverBrokenConnections(pool: pg.Pool): void {
  const checkedOut = new Set<pg.PoolClient>();
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_error, client) => checkedOut.delete(client));
  pool.on("connect", (client) => {
    const poolClient = client as pg.PoolClient;
    client.on("end", () => {
      if (checkedOut.has(poolClient)) poolClient.release(new Error("connection closed while in use"));
    });
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    const closeOnTimeout = (error: unknown) => {
      if (error instanceof Error && error.message === "Query read timeout")
        client.end().catch(() => undefined);
    };
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const callbackAt = args.findIndex((arg) => typeof arg === "function");
      if (callbackAt >= 0) {
        const callback = args[callbackAt] as (error: unknown, result: unknown) => void;
        args[callbackAt] = (error: unknown, result: unknown) => {
          if (error) closeOnTimeout(error);
          callback(error, result);
        };
        return query(...args);
      }
      const result = query(...args);
      if (result instanceof Promise) result.catch(closeOnTimeout);
      return result;
    };
  });
}

/**
 * One PrismaClient per web process, created on first use from DATABASE_URL (which the launcher sets for
 * the embedded server). The Next.js dev server reloads modules, so the instance lives on globalThis;
 * it is rebuilt if DATABASE_URL changes (tests point suites at their own databases).
 */
export function getDb(): PrismaClient {
  const url = liveSetting.databaseUrl();
  if (!url) throw new Error("DATABASE_URL is not set; start the product with `npm start`, which sets it.");
  if (holder.__provisioningDb?.url !== url) {
    holder.__provisioningDb = { url, client: createDatabase(url, WEB_DATABASE_OPTIONS) };
  }
  return holder.__provisioningDb.client;
}
