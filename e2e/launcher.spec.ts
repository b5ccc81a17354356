import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { SANDBOX_DIALPAD_KEY } from "../sandbox/dialpad/server";
import { SANDBOX_CONSOLE_CLIENT_ID, SANDBOX_TENANT_ID } from "../sandbox/identity/constants";
import { signInWithPassword } from "../sandbox/identity/login-flow";
import { ADMIN } from "./fixtures";

/**
 * The run command as an operator experiences it: killed with SIGKILL it starts again on intact data;
 * one SIGINT stops every process it started; and pointed at another PostgreSQL with DATABASE_URL it
 * migrates that server and the slice works there. Each launcher gets its own data directory and ports.
 */
test.describe.configure({ mode: "serial", timeout: 240_000 });

interface Launcher {
  child: ChildProcess;
  output: string[];
  port: number;
  sandboxPortBase: number;
  dataDir: string;
}

function launch(
  name: string,
  port: number,
  sandboxPortBase: number,
  extraEnv: Record<string, string> = {},
): Launcher {
  const dataDir = path.resolve("data", `e2e-${name}`);
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/launch.ts"], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      SANDBOX: "on",
      SANDBOX_PORT_BASE: String(sandboxPortBase),
      WORKERS: "1",
      LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return { child, output, port, sandboxPortBase, dataDir };
}

async function waitForHealth(launcher: Launcher, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (launcher.child.exitCode !== null)
      throw new Error(`launcher exited early:\n${launcher.output.join("")}`);
    try {
      const response = await fetch(`http://localhost:${launcher.port}/api/health`);
      if (response.ok && ((await response.json()) as { workers: { live: number } }).workers.live > 0) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`not healthy within ${timeoutMs} ms:\n${launcher.output.join("")}`);
}

/** Processes whose environment names this data directory: everything the launcher started, postgres included. */
function processesUsing(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (environ.split("\0").includes(`DATA_DIR=${dataDir}`) || cmdline.includes(dataDir))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function embeddedUrl(dataDir: string, database = "provisioning"): string {
  const settings = JSON.parse(fs.readFileSync(path.join(dataDir, "embedded-postgres.json"), "utf8")) as {
    port: number;
    user: string;
    password: string;
  };
  return `postgresql://${settings.user}:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/${database}`;
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test("after SIGKILL the run command starts again on intact data, and one SIGINT stops everything", async () => {
  fs.rmSync(path.resolve("data", "e2e-restart"), { recursive: true, force: true });
  const first = launch("restart", 3911, 3961);
  await waitForHealth(first);
  const marker = `restart-marker-${Date.now()}`;
  await query(
    embeddedUrl(first.dataDir),
    `INSERT INTO "Connection" (id, name, "updatedAt") VALUES (gen_random_uuid(), $1, now())`,
    [marker],
  );

  first.child.kill("SIGKILL");
  await waitUntil(
    () => first.child.exitCode !== null || first.child.signalCode !== null,
    10_000,
    "the launcher to die",
  );

  const second = launch("restart", 3911, 3961);
  await waitForHealth(second);
  const rows = await query<{ name: string }>(
    embeddedUrl(second.dataDir),
    `SELECT name FROM "Connection" WHERE name = $1`,
    [marker],
  );
  expect(rows).toHaveLength(1);

  second.child.kill("SIGINT");
  await waitUntil(() => second.child.exitCode !== null, 60_000, "the launcher to stop");
  expect(second.child.exitCode).toBe(0);
  await waitUntil(() => processesUsing(second.dataDir).length === 0, 10_000, "every child process to exit");
});

test("with DATABASE_URL set, migrations apply on that server and the slice works there", async () => {
  // The previous test's embedded PostgreSQL is restarted as "another server" for this launcher.
  fs.rmSync(path.resolve("data", "e2e-external"), { recursive: true, force: true });
  const host = launch("restart", 3911, 3961);
  await waitForHealth(host);
  const adminUrl = embeddedUrl(host.dataDir, "postgres");
  await query(adminUrl, "DROP DATABASE IF EXISTS external_check WITH (FORCE)");
  await query(adminUrl, "CREATE DATABASE external_check");
  const externalUrl = embeddedUrl(host.dataDir, "external_check");

  const launcher = launch("external", 3912, 3971, { DATABASE_URL: externalUrl });
  try {
    await waitForHealth(launcher);
    expect(fs.existsSync(path.join(launcher.dataDir, "postgres"))).toBe(false);
    const migrations = await query<{ migration_name: string }>(
      externalUrl,
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`,
    );
    expect(migrations.map((row) => row.migration_name)).toContain("20261128000000_init");

    const ca = fs.readFileSync(path.join(launcher.dataDir, "sandbox-tls", "localhost.crt"), "utf8");
    const tokens = await signInWithPassword({
      authority: `https://localhost:${launcher.sandboxPortBase + 1}/${SANDBOX_TENANT_ID}/`,
      clientId: SANDBOX_CONSOLE_CLIENT_ID,
      redirectUri: `http://localhost:${launcher.port}/`,
      scope: "api://dialpad-provisioning/access_as_user openid profile offline_access",
      username: ADMIN.username,
      password: ADMIN.password,
      ca,
    });
    const api = async (method: string, url: string, body?: unknown) => {
      const response = await fetch(`http://localhost:${launcher.port}${url}`, {
        method,
        headers: { authorization: `Bearer ${tokens.accessToken}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const list = await api("GET", "/api/connections");
    const connection = (list.body.connections as { id: string }[])[0]!;
    const tenantUrl = `https://localhost:${launcher.sandboxPortBase + 3}/scim`;
    const saved = await api("PATCH", `/api/connections/${connection.id}`, {
      settings: { tenantUrl, secretToken: SANDBOX_DIALPAD_KEY },
    });
    expect(saved.status).toBe(200);
    const tested = await api("POST", `/api/connections/${connection.id}/test-connection`, {});
    expect(tested.body).toMatchObject({ ok: true });
    const provisioned = await api("POST", `/api/connections/${connection.id}/provision-on-demand`, {
      subjects: [{ objectId: "10000000-0000-4000-8000-000000000001", objectTypeName: "User" }],
    });
    expect(provisioned.body).toMatchObject({ action: "Create", status: "Success" });
    const logs = await query<{ action: string }>(externalUrl, `SELECT action FROM "ProvisioningLog"`);
    expect(logs).toEqual([{ action: "Create" }]);
  } finally {
    launcher.child.kill("SIGINT");
    host.child.kill("SIGINT");
    await waitUntil(
      () => launcher.child.exitCode !== null && host.child.exitCode !== null,
      60_000,
      "the launchers to stop",
    );
  }
});
