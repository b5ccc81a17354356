import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/**
 * Applies the committed SQL migrations under prisma/migrations in name order. Prisma's own
 * `migrate deploy` needs the native schema engine, which cannot be downloaded on these machines, so
 * this runner does the same job: one transaction per migration, recorded in Prisma's
 * `_prisma_migrations` table (same columns and checksums, so `prisma migrate status` agrees).
 *
 * Several processes start at once (web, workers, tests): a session-level advisory lock serialises
 * them, and whoever comes second finds the migrations applied.
 */
const MIGRATION_LOCK_ID = 72_707_369_001;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export function defaultMigrationsDir(): string {
  return path.resolve(process.cwd(), "prisma", "migrations");
}

export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string = defaultMigrationsDir(),
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
    }>(`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`);
    const recorded = new Map(rows.map((row) => [row.migration_name, row]));
    const applied: string[] = [];
    let alreadyApplied = 0;

    for (const migration of listMigrations(migrationsDir)) {
      const existing = recorded.get(migration.name);
      if (existing?.finished_at) {
        if (existing.checksum !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied (checksum differs). ` +
              "Committed migrations are immutable: add a new migration instead.",
          );
        }
        alreadyApplied += 1;
        continue;
      }
      if (existing) {
        throw new Error(
          `Migration ${migration.name} started earlier but never finished. Inspect the database, then ` +
            `delete its row from "_prisma_migrations" to retry it.`,
        );
      }
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [crypto.randomUUID(), migration.checksum, migration.name],
        );
        await client.query("COMMIT");
        applied.push(migration.name);
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return { applied, alreadyApplied };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

function listMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((name) => {
      const file = path.join(dir, name, "migration.sql");
      if (!fs.existsSync(file)) return [];
      const sql = fs.readFileSync(file, "utf8");
      return [{ name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") }];
    });
}
