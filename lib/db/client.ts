import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";

export type Database = PrismaClient;
export { PrismaClient };

/**
 * One PrismaClient per process, created on first use from DATABASE_URL (which the launcher sets for
 * the embedded server). The Next.js dev server reloads modules, so the instance lives on globalThis.
 */
const holder = globalThis as unknown as { __provisioningDb?: PrismaClient };

export function createDatabase(databaseUrl: string, options: { poolSize?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

export function getDb(): PrismaClient {
  if (!holder.__provisioningDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set; start the product with `npm start`, which sets it.");
    holder.__provisioningDb = createDatabase(url);
  }
  return holder.__provisioningDb;
}
