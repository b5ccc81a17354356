import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";

export type Database = PrismaClient;
export { PrismaClient };

/**
 * One PrismaClient per process, created on first use from DATABASE_URL (which the launcher sets for
 * the embedded server). The Next.js dev server reloads modules, so the instance lives on globalThis;
 * it is rebuilt if DATABASE_URL changes (tests point suites at their own databases).
 */
const holder = globalThis as unknown as { __provisioningDb?: { url: string; client: PrismaClient } };

export function createDatabase(
  databaseUrl: string,
  options: {
    poolSize?: number;
    /**
     * PostgreSQL ends a session that sits this long inside a transaction without sending anything. A
     * worker frozen (SIGSTOP, a stopped VM) in the middle of a fenced write would otherwise keep the row
     * lock on its job forever, and no other worker could take the job over.
     */
    idleInTransactionTimeoutMs?: number;
  } = {},
): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    ...(options.idleInTransactionTimeoutMs
      ? {
          options: `-c idle_in_transaction_session_timeout=${Math.round(options.idleInTransactionTimeoutMs)}`,
        }
      : {}),
  });
  return new PrismaClient({ adapter });
}

export function getDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set; start the product with `npm start`, which sets it.");
  if (holder.__provisioningDb?.url !== url) {
    holder.__provisioningDb = { url, client: createDatabase(url) };
  }
  return holder.__provisioningDb.client;
}
