import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDatabase, WEB_DATABASE_OPTIONS, type Database } from "../../lib/db/client";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../lib/db/embedded-postgres";
import { isDatabaseUnavailable } from "../../lib/db/unavailable";
import { problemResponse } from "../../lib/server/http";

/**
 * The web process's database client against a PostgreSQL of its own that is frozen (SIGSTOP), thawed,
 * killed and restarted: failures come back within seconds, are recognised as an outage (503 with
 * Retry-After, not 500), and the same client works again once the server is back.
 */
const POOL_SIZE = 3;
let dir: string;
let server: EmbeddedDatabase;
let db: Database;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "provisioning-outage-"));
  server = await startEmbeddedPostgres({ dataDir: dir, databaseName: "postgres" });
  db = createDatabase(server.url, { ...WEB_DATABASE_OPTIONS, poolSize: POOL_SIZE });
}, 120_000);

afterAll(async () => {
  if (fs.existsSync(path.join(dir, "postgres", "postmaster.pid"))) signal(postgresPids(), "SIGCONT");
  await db?.$disconnect().catch(() => undefined);
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function postmasterPid(): number {
  return Number(fs.readFileSync(path.join(dir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

function postgresPids(): number[] {
  const postmaster = postmasterPid();
  const children = fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

function signal(pids: number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  }
}

async function failure(run: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await run();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error("expected the database call to fail");
}

async function expectOutageAnswer(error: unknown): Promise<void> {
  expect(isDatabaseUnavailable(error)).toBe(true);
  const response = problemResponse(error, new Request("http://localhost/api/connections"));
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await response.json()).toMatchObject({ type: "urn:problem:database_unavailable", status: 503 });
}

const ping = () => db.$queryRaw`SELECT 1 AS one`;

/**
 * Every pooled connection usable at once: as many transactions as the pool holds, each waiting for
 * all the others to have started. A connection leaked by an outage leaves one of them without a slot.
 */
async function expectWholePool(): Promise<void> {
  let started = 0;
  const transaction = () =>
    db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        started += 1;
        const deadline = Date.now() + 2_000;
        while (started < POOL_SIZE && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        return started;
      },
      { maxWait: 5_000, timeout: 10_000 },
    );
  const seen = await Promise.all(Array.from({ length: POOL_SIZE }, transaction));
  expect(seen).toEqual(Array.from({ length: POOL_SIZE }, () => POOL_SIZE));
}

describe("database outages seen by the web process", () => {
  test("a frozen server fails calls within seconds as an outage; after it thaws the same client works", async () => {
    await Promise.all([ping(), ping(), ping()]);
    const frozen = postgresPids();
    signal(frozen, "SIGSTOP");
    try {
      // More calls than pooled connections: some wait on an open connection, others try to open one.
      const failures = await Promise.all(Array.from({ length: 5 }, () => failure(ping)));
      const inTransaction = await failure(() => db.$transaction(async (tx) => tx.$queryRaw`SELECT 2`));
      for (const { error, ms } of [...failures, inTransaction]) {
        expect(ms).toBeLessThan(WEB_DATABASE_OPTIONS.queryTimeoutMs! + 2_000);
        await expectOutageAnswer(error);
      }
    } finally {
      signal(frozen, "SIGCONT");
    }
    await expect(ping()).resolves.toEqual([{ one: 1 }]);
    await expect(Promise.all([ping(), ping(), ping(), ping()])).resolves.toHaveLength(4);
  }, 60_000);

  test("a transaction cut off by a freeze is rolled back, and no later statement runs inside it", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS outage_writes (v int)`;
    let frozen: number[] = [];
    const cutOff = await failure(() =>
      db.$transaction(
        async (tx) => {
          await tx.$executeRaw`INSERT INTO outage_writes VALUES (1)`;
          frozen = postgresPids();
          signal(frozen, "SIGSTOP");
          await tx.$executeRaw`INSERT INTO outage_writes VALUES (2)`;
        },
        { timeout: 30_000 },
      ),
    );
    signal(frozen, "SIGCONT");
    await expectOutageAnswer(cutOff.error);

    // Every pooled connection is used after the thaw; none may still carry the cut-off transaction.
    for (let value = 10; value < 16; value += 1)
      await db.$executeRaw`INSERT INTO outage_writes VALUES (${value})`;
    const observer = new pg.Client({ connectionString: server.url });
    await observer.connect();
    try {
      const rows = await observer.query<{ v: number }>("SELECT v FROM outage_writes ORDER BY v");
      expect(rows.rows.map((row) => row.v)).toEqual([10, 11, 12, 13, 14, 15]);
      const open = await observer.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
      );
      expect(open.rows).toEqual([]);
    } finally {
      await observer.end();
    }
    await expectWholePool();
  }, 60_000);

  test("a killed server fails calls at once as an outage; restarted on its data, the same client works", async () => {
    const before = postmasterPid();
    // Killed while a transaction is open: its connection must not stay checked out of the pool.
    const cutOff = failure(() =>
      db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1`;
          process.kill(before, "SIGKILL");
          while (server.isRunning()) await new Promise((resolve) => setTimeout(resolve, 50));
          await tx.$queryRaw`SELECT 2`;
        },
        { timeout: 30_000 },
      ),
    );
    await expectOutageAnswer((await cutOff).error);

    const { error, ms } = await failure(ping);
    expect(ms).toBeLessThan(2_000);
    await expectOutageAnswer(error);
    await expectOutageAnswer((await failure(() => db.$transaction([ping()]))).error);

    // Backends orphaned by the dead postmaster may hold on briefly; the launcher retries the same way.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await server.restart();
        break;
      } catch (restartError) {
        if (attempt === 10) throw restartError;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    expect(server.isRunning()).toBe(true);
    expect(postmasterPid()).not.toBe(before);
    await expect(ping()).resolves.toEqual([{ one: 1 }]);
    await expectWholePool();
  }, 60_000);

  test("a failing statement on a healthy server is not an outage", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS outage_check (id int PRIMARY KEY)`;
    await db.$executeRaw`INSERT INTO outage_check VALUES (1) ON CONFLICT DO NOTHING`;
    const duplicate = await failure(() => db.$executeRaw`INSERT INTO outage_check VALUES (1)`);
    const missing = await failure(() => db.$queryRaw`SELECT * FROM no_such_table`);
    for (const { error } of [duplicate, missing]) {
      expect(isDatabaseUnavailable(error)).toBe(false);
      expect(problemResponse(error, new Request("http://localhost/api/connections")).status).toBe(500);
    }
  });
});
