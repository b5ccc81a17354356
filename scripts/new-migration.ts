/**
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the schema of the
 * last commit (`git show HEAD:prisma/schema.prisma`) to the working prisma/schema.prisma.
 *
 * Prisma's `migrate dev` needs the native schema engine and a shadow database, and `migrate diff
 * --from-url` is refused when an adapter is configured; diffing two datamodels works offline. The CLI
 * still opens the configured adapter when it loads, so a throw-away embedded PostgreSQL is started for it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <snake_case_name>");
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-"));
const db = await startEmbeddedPostgres({ dataDir: tmp });
try {
  const previousSchema = path.join(tmp, "previous.prisma");
  fs.writeFileSync(
    previousSchema,
    execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { encoding: "utf8" }),
  );
  const sql = execFileSync(
    "npx",
    [
      "prisma",
      "migrate",
      "diff",
      "--from-schema-datamodel",
      previousSchema,
      "--to-schema-datamodel",
      "prisma/schema.prisma",
      "--script",
    ],
    { env: { ...process.env, DATABASE_URL: db.url }, encoding: "utf8" },
  );
  if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
    console.log("The schema matches the committed migrations; nothing to write.");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = path.join("prisma", "migrations", `${stamp}_${name}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "migration.sql"), sql);
    console.log(`wrote ${dir}/migration.sql`);
  }
} finally {
  await db.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
