/**
 * The real parts every scenario runs on: an embedded PostgreSQL of the bench's own (never ./data, which
 * the console uses), the sandbox emulators over HTTPS, and the sandbox connection pointed at them.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { resetEnvironmentCache } from "../lib/config/env";
import { SecretBox, lastFour } from "../lib/crypto/secrets";
import { createDatabase, type Database } from "../lib/db/client";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { applyMigrations } from "../lib/db/migrate";
import type { Prisma } from "../lib/db/generated/client";
import { ensureSandboxConnection } from "../lib/server/sandbox-connection";
import { seedDirectory } from "../sandbox/graph/seed";
import { startSandbox, type RunningSandbox } from "../sandbox/main";

export interface BenchDatabase {
  name: string;
  url: string;
  db: Database;
}

export interface BenchInfra {
  dir: string;
  /** The embedded PostgreSQL's data directory (its postmaster.pid tells the bench which processes are its). */
  pgDataDir: string;
  sandbox: RunningSandbox;
  secretKey: Buffer;
  /** Environment every child process (workers, API server) gets. */
  childEnv: Record<string, string>;
  /** A fresh, migrated database cloned from the template. */
  createDatabase(label: string): Promise<BenchDatabase>;
  dropDatabase(database: BenchDatabase): Promise<void>;
  /** The sandbox connection in `database`, pointed at the emulated Dialpad, provisioning on. */
  createConnection(database: BenchDatabase, data?: Prisma.ConnectionUpdateInput): Promise<string>;
  /** Replaces the emulated directory with `users` users and `groups` groups (deterministic). */
  seedGraph(users: number, groups: number): void;
  /** Seeds only when the directory is not already that size (a scenario run on its own with --only). */
  ensureSeeded(users: number, groups: number): void;
  close(): Promise<void>;
}

const TEMPLATE = "bench_template";
/** What the emulated directory was last seeded with (the sandbox starts with its small default seed). */
let seeded: { users: number; groups: number } | null = null;

export async function startBenchInfra(log: (line: string) => void): Promise<BenchInfra> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioning-bench-"));
  // As root, PostgreSQL runs as the "postgres" user, which must be able to reach its cluster below here.
  fs.chmodSync(dir, 0o755);
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "db"), databaseName: "postgres" });
  const adminUrl = embedded.url;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await applyMigrations(withDatabase(adminUrl, TEMPLATE));
  log(`PostgreSQL ready in ${dir}`);

  const sandbox = await startSandbox({
    dataDir: dir,
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: path.join(dir, "tls"),
  });
  const secretKey = crypto.randomBytes(32);
  const childEnv: Record<string, string> = {
    SECRET_KEY: secretKey.toString("base64"),
    DATA_DIR: dir,
    SANDBOX: "on",
    LOG_LEVEL: "info",
    // Workers talk HTTPS to the emulators through global fetch, which trusts only certificates known
    // when the process starts.
    NODE_EXTRA_CA_CERTS: sandbox.runtime.certPath,
    AUTH_AUTHORITY: sandbox.runtime.identity.authority,
    AUTH_ISSUER: sandbox.runtime.identity.issuer,
    AUTH_JWKS_URI: sandbox.runtime.identity.jwksUri,
    AUTH_API_AUDIENCE: sandbox.runtime.console.apiAudience,
  };
  // This process seals secrets and reads settings the same way the workers do.
  Object.assign(process.env, { SECRET_KEY: childEnv.SECRET_KEY, DATA_DIR: dir, SANDBOX: "on" });
  resetEnvironmentCache();
  const box = new SecretBox(secretKey);
  const databases = new Set<BenchDatabase>();

  const seedGraph = (users: number, groups: number) => {
    sandbox.graph.directory.reset();
    seedDirectory(sandbox.graph.directory, { users, groups });
    seeded = { users, groups };
  };
  return {
    dir,
    pgDataDir: embedded.clusterDir,
    sandbox,
    secretKey,
    childEnv,
    async createDatabase(label) {
      const name = `bench_${label}_${crypto.randomBytes(3).toString("hex")}`;
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
      const url = withDatabase(adminUrl, name);
      const database = { name, url, db: createDatabase(url, { poolSize: 8 }) };
      databases.add(database);
      return database;
    },
    async dropDatabase(database) {
      databases.delete(database);
      await database.db.$disconnect();
      await admin.query(`DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`);
    },
    async createConnection(database, data = {}) {
      const id = await ensureSandboxConnection(database.db, box, sandbox.runtime);
      const key = sandbox.runtime.dialpad.apiKey;
      await database.db.connection.update({
        where: { id },
        data: {
          tenantUrl: sandbox.runtime.dialpad.tenantUrl,
          secretTokenCipher: box.seal(key, `${id}:secretToken`),
          secretTokenLast4: lastFour(key),
          provisioningEnabled: true,
          // Scenarios drive their cycles themselves; the propagation scenario asks for continuous mode.
          scheduleMode: "interval",
          ...data,
        },
      });
      return id;
    },
    seedGraph,
    ensureSeeded(users, groups) {
      if (seeded?.users !== users || seeded.groups !== groups) seedGraph(users, groups);
    },
    async close() {
      for (const database of databases) await database.db.$disconnect().catch(() => undefined);
      await sandbox.close();
      await admin.end().catch(() => undefined);
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
