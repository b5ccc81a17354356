/**
 * `npm start` (production build) and `npm run dev` (hot reload): one command that brings up the whole
 * product — PostgreSQL (embedded unless DATABASE_URL is set), migrations, the sandbox services when no
 * real sign-in authority is configured, the web server and the workers — and one Ctrl-C that stops it
 * all. Children hold an IPC channel to this process and exit when it disappears, even after SIGKILL.
 * While it runs, it supervises them (scripts/supervise.ts): one that dies is restarted with backoff,
 * and only a crash loop stops everything.
 */
import { type ChildProcess, fork, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseEnvironment, isSandboxEnabled, ConfigurationError, workerNodeFlags } from "../lib/config/env";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../lib/db/embedded-postgres";
import { applyMigrations } from "../lib/db/migrate";
import { createDatabase } from "../lib/db/client";
import { SecretBox, loadSecretKey } from "../lib/crypto/secrets";
import { createLogger } from "../lib/log";
import { ensureSandboxConnection } from "../lib/server/sandbox-connection";
import type { SandboxRuntime } from "../sandbox/main";
import { Supervisor, type Running } from "./supervise";

const isDev = process.argv.includes("--dev");
const say = (message: string) => console.log(`[launcher] ${message}`);

/** How often the launcher checks that the embedded PostgreSQL's postmaster is still alive. */
const POSTMASTER_POLL_MS = 1_000;

async function main(): Promise<void> {
  let environment;
  try {
    environment = parseEnvironment(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const dataDir = path.resolve(environment.DATA_DIR);
  fs.mkdirSync(dataDir, { recursive: true });
  const log = createLogger({ name: "launcher", level: environment.LOG_LEVEL });
  let shuttingDown = false;
  const childNames: string[] = [];
  const supervisor = new Supervisor({
    log: (level, fields, message) => log[level](fields, message),
    onCrashLoop: (name, restarts) => {
      console.error(
        `[launcher] ${name} keeps crashing (restarted ${restarts} times within 2 minutes); stopping everything. Its log above says why.`,
      );
      void shutdown(1);
    },
    onRestarted: () => recordChildren(dataDir, supervisor.pids()),
  });

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say("stopping…");
    supervisor.endRestarts();
    // Children first (workers release their jobs), then PostgreSQL.
    await Promise.all(childNames.map((name) => supervisor.stop(name)));
    await supervisor.stop("postgres");
    fs.rmSync(path.join(dataDir, "launcher.pid"), { force: true });
    say("stopped");
    process.exit(code);
  };
  // embedded-postgres installs its own SIGINT/SIGTERM hooks that stop PostgreSQL and exit at once,
  // which would pull the database from under workers still releasing their jobs. The launcher owns
  // the order: children first, then PostgreSQL.
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  killLeftovers(dataDir);
  fs.writeFileSync(path.join(dataDir, "launcher.pid"), String(process.pid));

  let databaseUrl = environment.DATABASE_URL;
  if (!databaseUrl) {
    const database = await startEmbeddedPostgres({ dataDir, log: () => undefined });
    databaseUrl = database.url;
    say(`embedded PostgreSQL on 127.0.0.1:${database.port} (data in ${path.join(dataDir, "postgres")})`);
    supervisor.supervise("postgres", postmasterRun(database), async () => {
      await database.restart();
      return postmasterRun(database);
    });
  }
  const migrations = await applyMigrations(databaseUrl);
  say(
    `database ready (${migrations.applied.length} migration(s) applied, ${migrations.alreadyApplied} already in place)`,
  );

  const publicUrl = environment.PUBLIC_URL ?? `http://${environment.HOST}:${environment.PORT}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    // Telemetry off: these machines have no route to it, and operators should opt in rather than out.
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
  };
  const superviseChild = (name: string, first: ChildProcess, restart: () => Promise<ChildProcess>) => {
    childNames.push(name);
    supervisor.supervise(name, childRun(first), async () => childRun(await restart()));
  };

  if (isSandboxEnabled(environment)) {
    const sandboxEnv = { ...childEnv, SANDBOX_PORT_BASE: String(environment.SANDBOX_PORT_BASE) };
    const { child, runtime } = await startSandboxChild(sandboxEnv);
    // A restarted sandbox comes back on the same ports with the same certificate (kept in DATA_DIR),
    // so the settings handed to the web server and workers below stay valid.
    superviseChild("sandbox", child, async () => (await startSandboxChild(sandboxEnv)).child);
    Object.assign(childEnv, sandboxEnvironment(runtime));
    const db = createDatabase(databaseUrl, { poolSize: 2 });
    const box = new SecretBox(loadSecretKey({ secretKey: environment.SECRET_KEY, dataDir }));
    await ensureSandboxConnection(db, box, runtime);
    await db.$disconnect();
    say(`sandbox hub (accounts, captured e-mail): ${runtime.hubUrl}`);
    say(`sandbox Dialpad tenant URL ${runtime.dialpad.tenantUrl}, secret token ${runtime.dialpad.apiKey}`);
  }

  if (!isDev) ensureProductionBuild();
  const webArgs = isDev ? ["--dev"] : [];
  const forkWeb = () => forkChild("web", "scripts/web.ts", webArgs, childEnv);
  superviseChild("web", forkWeb(), async () => forkWeb());
  for (let i = 0; i < environment.WORKERS; i += 1) {
    const forkWorker = () =>
      forkChild(`worker-${i + 1}`, "worker/index.ts", [], childEnv, workerNodeFlags(environment));
    superviseChild(`worker-${i + 1}`, forkWorker(), async () => forkWorker());
  }
  recordChildren(dataDir, supervisor.pids());
  say(`console: ${publicUrl}  (Ctrl-C stops everything)`);
}

function childRun(child: ChildProcess): Running {
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { pid: child.pid, exited, stop: () => stopChild(child) };
}

/**
 * The embedded postmaster is not the launcher's direct child in a way Node reports (embedded-postgres
 * owns the handle), so its death is noticed by polling its pid. A frozen postmaster is alive: it is
 * waited out, not restarted.
 */
function postmasterRun(database: EmbeddedDatabase): Running {
  let timer: NodeJS.Timeout | undefined;
  let ended: (() => void) | undefined;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    ended = () => {
      clearInterval(timer);
      resolve({ code: null, signal: null });
    };
    timer = setInterval(() => {
      if (!database.isRunning()) ended?.();
    }, POSTMASTER_POLL_MS);
  });
  return {
    exited,
    stop: async () => {
      await database.stop().catch(() => undefined);
      ended?.();
    },
  };
}

function forkChild(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): ChildProcess {
  return fork(script, args, {
    env: { ...env, PROCESS_NAME: name },
    execArgv: [...nodeFlags, "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

function startSandboxChild(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; runtime: SandboxRuntime }> {
  return new Promise((resolve, reject) => {
    const child = forkChild("sandbox", "sandbox/main.ts", [], env);
    const onExit = (code: number | null) =>
      reject(new Error(`the sandbox exited during start-up (code ${code})`));
    child.once("exit", onExit);
    child.on("message", (message: { type?: string; runtime?: SandboxRuntime }) => {
      if (message.type === "sandbox-ready" && message.runtime) {
        child.off("exit", onExit);
        resolve({ child, runtime: message.runtime });
      }
    });
  });
}

/** What the web server and workers need to know about the sandbox, as ordinary settings. */
function sandboxEnvironment(runtime: SandboxRuntime): Record<string, string> {
  return {
    SANDBOX: "on",
    NODE_EXTRA_CA_CERTS: runtime.certPath,
    AUTH_AUTHORITY: runtime.identity.authority,
    AUTH_ISSUER: runtime.identity.issuer,
    AUTH_JWKS_URI: runtime.identity.jwksUri,
    AUTH_AUTHORITY_METADATA: runtime.identity.authorityMetadata,
    AUTH_CLIENT_ID: runtime.console.clientId,
    AUTH_API_AUDIENCE: runtime.console.apiAudience,
    AUTH_API_SCOPE: runtime.console.apiScope,
    AUTH_ALLOWED_TENANT_IDS: runtime.tenantId,
    SMTP_HOST: runtime.mail.host,
    SMTP_PORT: String(runtime.mail.port),
    SMTP_SECURE: "false",
    SANDBOX_RUNTIME: JSON.stringify({
      hubUrl: runtime.hubUrl,
      dialpadTenantUrl: runtime.dialpad.tenantUrl,
      dialpadApiKey: runtime.dialpad.apiKey,
      webhookUrl: runtime.webhook.url,
      webhookSecret: runtime.webhook.secret,
      accounts: runtime.accounts,
    }),
  };
}

/** Builds when there is no build yet or a source file changed since the last one. */
function ensureProductionBuild(): void {
  const buildId = path.resolve(".next", "BUILD_ID");
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const isStale =
    builtAt === 0 ||
    ["app", "components", "lib", "public", "next.config.mjs", "package.json"].some((entry) =>
      newerThan(entry, builtAt),
    );
  if (!isStale) return;
  say(
    builtAt === 0 ? "building the console (first run)…" : "sources changed since the last build; rebuilding…",
  );
  const result = spawnSync("npx", ["next", "build"], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error("next build failed");
}

function newerThan(entry: string, time: number): boolean {
  if (!fs.existsSync(entry)) return false;
  const stat = fs.statSync(entry);
  if (stat.mtimeMs > time) return true;
  if (!stat.isDirectory() || entry.endsWith("generated")) return false;
  return fs.readdirSync(entry).some((name) => newerThan(path.join(entry, name), time));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * A launcher killed with SIGKILL cannot stop its children; they notice the lost IPC channel and exit on
 * their own, but a hung one would keep its port. Anything recorded by the previous run and still alive
 * is stopped before starting again.
 */
function killLeftovers(dataDir: string): void {
  const file = path.join(dataDir, "processes.json");
  if (!fs.existsSync(file)) return;
  try {
    const pids = JSON.parse(fs.readFileSync(file, "utf8")) as number[];
    for (const pid of pids) {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (cmdline.includes("tsx")) process.kill(pid, "SIGKILL");
      } catch {
        // not running any more
      }
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function recordChildren(dataDir: string, pids: number[]): void {
  fs.writeFileSync(path.join(dataDir, "processes.json"), JSON.stringify(pids));
}

main().catch((error: unknown) => {
  console.error("[launcher] failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
