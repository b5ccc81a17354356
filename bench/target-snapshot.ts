/**
 * Measures a target snapshot of a large Dialpad: time, emulator requests and the peak RSS of the process
 * taking it (pages are streamed into PostgreSQL, so memory must not grow with the target), then the cost
 * of matching every user through batch lookups.
 *
 *   [SNAPSHOT_HEAP_MB=96] npx tsx bench/target-snapshot.ts [users=100000] [requestsPerSecond]
 *
 * This process runs PostgreSQL (embedded) and the Dialpad emulator over HTTPS, seeded in-process; the
 * snapshot is taken by a child process, so its RSS is the snapshot's alone and not the emulator's.
 */
import { runAsChild, serveAsChild } from "./processes";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createDatabase } from "../lib/db/client";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { applyMigrations } from "../lib/db/migrate";
import { createAdaptiveLimiter, createScimClient } from "../lib/scim";
import { takeTargetSnapshot } from "../lib/server/target-snapshot-store";
import type { TargetIndex } from "../lib/sync/target-index";
import { SANDBOX_DIALPAD_KEY, startDialpadEmulator } from "../sandbox/dialpad/server";
import { userBody } from "../sandbox/dialpad/testing";
import { ensureSandboxTls } from "../sandbox/tls";

const userNameOf = (i: number) => `Bench.User${i}@Contoso.example`;

interface ChildInput {
  databaseUrl: string;
  tenantUrl: string;
  connectionId: string;
  users: number;
  requestsPerSecond: number | null;
}

interface ChildResult {
  snapshotMs: number;
  /** Of snapshotMs: waiting for the emulator's answers; the rest is PostgreSQL and parsing. */
  listingHttpMs: number;
  /** CPU time of the snapshot process during the snapshot (parsing, keys, JSON for PostgreSQL). */
  cpuMs: number;
  verdict: unknown;
  rssBeforeMb: number;
  /** Sampled every 10 ms during the snapshot; maxRssMb is the kernel's peak for the process until then. */
  peakRssMb: number;
  maxRssMb: number;
  heapBeforeMb: number;
  heapRetainedMb: number;
  lookupMs: number;
  lookupUnits: number;
  found: number;
  rows: { entries: number; keys: number; tableMb: number };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function child(input: ChildInput): Promise<ChildResult> {
  const db = createDatabase(input.databaseUrl);
  await db.$queryRaw`SELECT 1`;
  let httpMs = 0;
  const scim = createScimClient({
    baseUrl: input.tenantUrl,
    token: SANDBOX_DIALPAD_KEY,
    onExchange: (exchange) => {
      httpMs += exchange.durationMs;
    },
    ...(input.requestsPerSecond
      ? { limiter: createAdaptiveLimiter({ ratePerSecond: input.requestsPerSecond }) }
      : {}),
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const taken = await takeTargetSnapshot(db, scim, {
    connectionId: input.connectionId,
    cycleId: null,
    resourceType: "User",
  });
  const snapshotMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const heapPeak = process.resourceUsage().maxRSS * 1024;
  // What the listing left behind (the verdict's id set is gone with it): garbage is not growth.
  global.gc?.();
  const heapRetained = process.memoryUsage().heapUsed - heapBefore;

  const index = taken.index as TargetIndex;
  let found = 0;
  let units = 0;
  const lookupStarted = performance.now();
  for (let offset = 0; offset < input.users; offset += 100) {
    const unit = Array.from({ length: Math.min(100, input.users - offset) }, (_, i) => [
      { targetAttribute: "userName", value: userNameOf(offset + i).toUpperCase() },
    ]);
    for (const result of await index.lookup(unit)) if (result.status === "found") found += 1;
    units += 1;
  }
  const lookupMs = performance.now() - lookupStarted;
  const [size] = await db.$queryRaw<{ bytes: bigint }[]>`
    SELECT (pg_total_relation_size('"TargetSnapshotEntry"') + pg_total_relation_size('"TargetSnapshotKey"'))::bigint AS bytes`;
  const result = {
    snapshotMs: Math.round(snapshotMs),
    listingHttpMs: Math.round(httpMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    verdict: taken.verdict,
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peak),
    maxRssMb: mb(heapPeak),
    heapBeforeMb: mb(heapBefore),
    heapRetainedMb: mb(heapRetained),
    lookupMs: Math.round(lookupMs),
    lookupUnits: units,
    found,
    rows: {
      entries: await db.targetSnapshotEntry.count(),
      keys: await db.targetSnapshotKey.count(),
      tableMb: mb(Number(size?.bytes ?? 0)),
    },
  };
  await db.$disconnect();
  return result;
}

async function parent(
  users: number,
  requestsPerSecond: number | null,
  heapLimitMb: number | null,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "snapshot-bench-"));
  fs.chmodSync(dir, 0o755);
  const tls = await ensureSandboxTls(path.join(dir, "tls"));
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "db"), databaseName: "postgres" });
  const dialpad = await startDialpadEmulator({
    tls: { cert: tls.cert, key: tls.key },
    rateLimit: requestsPerSecond ? { requestsPerSecond } : null,
  });
  try {
    const admin = new pg.Client({ connectionString: embedded.url });
    await admin.connect();
    await admin.query("CREATE DATABASE snapshot_bench");
    await admin.end();
    const url = new URL(embedded.url);
    url.pathname = "/snapshot_bench";
    const databaseUrl = url.toString();
    await applyMigrations(databaseUrl);
    const db = createDatabase(databaseUrl);
    const connectionId = (await db.connection.create({ data: { name: "snapshot bench" } })).id;
    await db.$disconnect();

    const seedStarted = performance.now();
    for (let i = 0; i < users; i++) {
      dialpad.company.createUser(
        userBody(userNameOf(i), {
          externalId: `ext-${i}`,
          emails: [{ primary: true, type: "work", value: userNameOf(i) }],
        }),
      );
    }
    console.log(`seeded ${users} Dialpad users in ${Math.round(performance.now() - seedStarted)} ms`);
    dialpad.requests.length = 0;

    const input: ChildInput = {
      databaseUrl,
      tenantUrl: `${dialpad.url}/scim`,
      connectionId,
      users,
      requestsPerSecond,
    };
    const result = await runAsChild<ChildResult>(import.meta.url, input, {
      what: "snapshot",
      env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certPath },
      // A cap on the V8 heap shows the listing runs in bounded memory: it would die past it.
      execArgv: ["--expose-gc", ...(heapLimitMb ? [`--max-old-space-size=${heapLimitMb}`] : [])],
    });
    const listing = dialpad.requests.filter((request) => request.method === "GET");
    console.log(
      JSON.stringify(
        {
          users,
          emulatorRateLimit: requestsPerSecond ?? "off",
          heapLimitMb: heapLimitMb ?? "default",
          emulatorRequests: dialpad.requests.length,
          listingRequests: listing.length,
          throttled: dialpad.requests.filter((request) => request.status === 429).length,
          // The emulator's own time answering the listing (arrival to response written).
          emulatorServerMs: Math.round(listing.reduce((sum, request) => sum + request.durationMs, 0)),
          ...result,
        },
        null,
        2,
      ),
    );
  } finally {
    await dialpad.close();
    await embedded.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  serveAsChild(child);
} else {
  const users = Number(process.argv[2] ?? 100_000);
  const rate = process.argv[3] ? Number(process.argv[3]) : null;
  const heapLimitMb = process.env.SNAPSHOT_HEAP_MB ? Number(process.env.SNAPSHOT_HEAP_MB) : null;
  await parent(users, rate, heapLimitMb);
}
