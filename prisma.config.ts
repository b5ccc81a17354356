import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";

// Only `prisma generate` and `prisma migrate diff` are used from the CLI; both work offline with the
// JS engine. Migrations are applied at start by lib/db/migrate.ts (advisory lock, no schema engine),
// so this adapter is only reached by ad-hoc CLI commands against DATABASE_URL.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
