import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { applyMigrations } from "../lib/db/migrate";
import { ensureSandboxTls } from "../sandbox/tls";

/**
 * One real PostgreSQL for the whole test run: TEST_DATABASE_URL when given (any server), otherwise a
 * throw-away embedded one. Migrations are applied once to a template database; each test file clones
 * it (CREATE DATABASE … TEMPLATE), which takes milliseconds and isolates files running in parallel.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests talk HTTPS to the sandbox emulators through global fetch, which trusts only certificates known
  // when the process starts: the test workers are forked after this, and inherit this variable.
  const tls = await ensureSandboxTls(path.join(os.tmpdir(), "provisioning-test-tls"));
  process.env.NODE_EXTRA_CA_CERTS = tls.certPath;
  project.provide("sandboxTlsDir", path.dirname(tls.certPath));
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stop: () => Promise<void> = async () => undefined;
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "provisioning-test-db-"));
    const embedded = await startEmbeddedPostgres({ dataDir: tmp, databaseName: "postgres" });
    adminUrl = embedded.url;
    stop = embedded.stop;
  }
  const templateName = `provisioning_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateName}`);
  await admin.query(`CREATE DATABASE ${templateName}`);
  await admin.end();
  const templateUrl = withDatabase(adminUrl, templateName);
  await applyMigrations(templateUrl);

  project.provide("databaseAdminUrl", adminUrl);
  project.provide("databaseTemplate", templateName);
  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${templateName} WITH (FORCE)`).catch(() => undefined);
    await cleanup.end();
    await stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseAdminUrl: string;
    databaseTemplate: string;
    sandboxTlsDir: string;
  }
}
