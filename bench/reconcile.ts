/**
 * Measures one reconcile report of a large Dialpad: time, Dialpad requests and the peak RSS of the
 * process computing it (it pages through Graph and Dialpad, so memory must not grow with the tenant).
 *
 *   [RECONCILE_HEAP_MB=128] npx tsx bench/reconcile.ts [users=100000]
 *
 * `npm run bench` runs it as scenario 9 (bench/scenarios/reconcile.ts).
 * This process runs PostgreSQL (embedded) and the Graph and Dialpad emulators over HTTPS. Every Entra
 * user is created in Dialpad from the default mappings and linked (what an initial cycle leaves), then
 * 1 % of the Dialpad users get a hand-edited title (drift) and 1 % more are created by hand (orphans).
 * The report is computed by a child process, so its RSS is the report's alone and not the emulators'.
 */
import { runAsChild, serveAsChild } from "./processes";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parseEnvironment, workerNodeFlags } from "../lib/config/env";
import { SecretBox, lastFour } from "../lib/crypto/secrets";
import { createDatabase } from "../lib/db/client";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { applyMigrations } from "../lib/db/migrate";
import { defaultDialpadMapping } from "../lib/mapping";
import { ensureSandboxConnection } from "../lib/server/sandbox-connection";
import { mappingEngineFor } from "../lib/sync/mapping-adapter";
import { toEntraUser } from "../lib/sync/source";
import { SANDBOX_DIALPAD_KEY, startDialpadEmulator } from "../sandbox/dialpad/server";
import { CORE_GROUP, PATCH_OP } from "../sandbox/dialpad/urns";
import {
  DIALPAD_SERVICE_PRINCIPAL_ID,
  SANDBOX_GRAPH_CLIENT,
  startGraphEmulator,
} from "../sandbox/graph/server";
import { SANDBOX_TENANT_ID } from "../sandbox/identity/constants";
import { ensureSandboxTls } from "../sandbox/tls";

interface ChildInput {
  databaseUrl: string;
  connectionId: string;
  runId: string;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function child(input: ChildInput) {
  const { runReconcile } = await import("../lib/server/reconcile-run");
  const db = createDatabase(input.databaseUrl);
  await db.$queryRaw`SELECT 1`;
  const box = new SecretBox(Buffer.from(process.env.SECRET_KEY!, "base64"));
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const phases: Record<string, number> = {};
  const { counts } = await runReconcile(db, box, input, {
    requestsPerSecond: 10_000,
    log: {
      info: (_fields, message) => void (phases[message] = Math.round(performance.now() - started)),
      warn: (fields, message) => console.error(message, fields),
    },
    mailer: null,
  });
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const run = await db.reconcileRun.findUniqueOrThrow({ where: { id: input.runId } });
  await db.$disconnect();
  return {
    reconcileMs: Math.round(ms),
    phasesMs: phases,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peak),
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
    counts,
    read: {
      dialpadUsers: run.dialpadUsers,
      dialpadGroups: run.dialpadGroups,
      entraUsers: run.entraUsers,
      dialpadRequests: run.dialpadRequests,
    },
  };
}

export interface ReconcileMeasurement {
  users: number;
  dialpadUsers: number;
  expected: { drifted: number; orphans: number; driftedGroups: number };
  /** Requests the Dialpad emulator received while the report ran. */
  emulatorRequests: number;
  reconcileMs: number;
  phasesMs: Record<string, number>;
  cpuMs: number;
  peakRssMb: number;
  maxRssMb: number;
  counts: { users: Record<string, number>; groups: Record<string, number> };
  read: { dialpadUsers: number; dialpadGroups: number; entraUsers: number; dialpadRequests: number };
}

export async function measureReconcile(
  users: number,
  log: (line: string) => void = console.log,
): Promise<ReconcileMeasurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reconcile-bench-"));
  fs.chmodSync(dir, 0o755);
  const tls = await ensureSandboxTls(path.join(dir, "tls"));
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "db"), databaseName: "postgres" });
  const graph = await startGraphEmulator({
    tls: { cert: tls.cert, key: tls.key },
    tenantId: SANDBOX_TENANT_ID,
    seed: { users, groups: 20 },
    rateLimit: null,
  });
  const dialpad = await startDialpadEmulator({ tls: { cert: tls.cert, key: tls.key }, rateLimit: null });
  const secretKey = crypto.randomBytes(32);
  const env = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: tls.certPath,
    SECRET_KEY: secretKey.toString("base64"),
    DATA_DIR: dir,
    LOG_LEVEL: "silent",
  };
  Object.assign(process.env, env);
  try {
    const admin = new pg.Client({ connectionString: embedded.url });
    await admin.connect();
    await admin.query("CREATE DATABASE reconcile_bench");
    await admin.end();
    const url = new URL(embedded.url);
    url.pathname = "/reconcile_bench";
    const databaseUrl = url.toString();
    await applyMigrations(databaseUrl);
    const db = createDatabase(databaseUrl);
    const box = new SecretBox(secretKey);
    const connectionId = await ensureSandboxConnection(db, box, {
      tenantId: SANDBOX_TENANT_ID,
      graph: {
        url: graph.url,
        baseUrl: `${graph.url}/v1.0`,
        authorityHost: graph.url,
        clientId: SANDBOX_GRAPH_CLIENT.clientId,
        clientSecret: SANDBOX_GRAPH_CLIENT.clientSecret,
        servicePrincipalId: DIALPAD_SERVICE_PRINCIPAL_ID,
      },
    } as Parameters<typeof ensureSandboxConnection>[2]);
    const tenantUrl = `${dialpad.url}/scim`;
    await db.connection.update({
      where: { id: connectionId },
      data: {
        tenantUrl,
        secretTokenCipher: box.seal(SANDBOX_DIALPAD_KEY, `${connectionId}:secretToken`),
        secretTokenLast4: lastFour(SANDBOX_DIALPAD_KEY),
        scope: "All",
      },
    });

    // What an initial cycle leaves: each enabled Entra user in Dialpad, as the mappings build it, linked.
    const seedStarted = performance.now();
    const mapping = mappingEngineFor(defaultDialpadMapping(), "User");
    const links: { connectionId: string; objectType: string; sourceId: string; targetId: string }[] = [];
    let drifted = 0;
    for (const user of graph.directory.listUsers()) {
      if (user.accountEnabled === false) continue;
      let created;
      try {
        created = dialpad.company.createUser(
          mapping.createResource(
            toEntraUser(user as unknown as Parameters<typeof toEntraUser>[0], { isSoftDeleted: false }),
          ).resource,
        );
      } catch {
        continue; // e.g. a userName Dialpad refuses: the cycle would fail that user, it has no account
      }
      links.push({ connectionId, objectType: "User", sourceId: user.id, targetId: created.id });
      if (links.length % 100 === 50) {
        dialpad.company.patchUser(created.id, {
          schemas: [PATCH_OP],
          Operations: [{ op: "replace", path: "title", value: "Changed in Dialpad" }],
        });
        drifted += 1;
      }
    }
    // The Entra groups in Dialpad with their linked members, as a cycle leaves them; every fifth group
    // lost a member by hand (the report must name each as a drifted group).
    const targetOf = new Map(links.map((link) => [link.sourceId, link.targetId]));
    let driftedGroups = 0;
    let groupMembers = 0;
    for (const [index, group] of graph.directory.listGroups().entries()) {
      const members = graph.directory
        .listMembers(group.id)
        .flatMap((member) =>
          member.type === "user" && targetOf.has(member.id) ? [targetOf.get(member.id)!] : [],
        );
      const handEdited = index % 5 === 0 && members.length > 0;
      if (handEdited) driftedGroups += 1;
      const kept = handEdited ? members.slice(1) : members;
      groupMembers += kept.length;
      const created = dialpad.company.createGroup({
        schemas: [CORE_GROUP],
        displayName: group.displayName,
        externalId: group.id,
        members: kept.map((value) => ({ value })),
      });
      links.push({ connectionId, objectType: "Group", sourceId: group.id, targetId: created.id });
    }
    for (let offset = 0; offset < links.length; offset += 5_000)
      await db.objectLink.createMany({ data: links.slice(offset, offset + 5_000) });
    const orphans = Math.round(users / 100);
    for (let i = 0; i < orphans; i++)
      dialpad.company.createUser({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: `by.hand${i}@contoso.example`,
        active: true,
      });
    log(
      `seeded ${links.length} links (${drifted} users drifted; ${driftedGroups} groups with ${groupMembers} members lost one) and ${orphans} orphans in ${Math.round(performance.now() - seedStarted)} ms`,
    );
    const run = await db.reconcileRun.create({ data: { connectionId, requestedBy: "bench" } });
    await db.$disconnect();
    dialpad.requests.length = 0;

    // The report runs in a worker in production: the child starts with a worker's heap limit, unless
    // RECONCILE_HEAP_MB asks for another.
    const heapMb = process.env.RECONCILE_HEAP_MB;
    const result = await runAsChild<
      Omit<ReconcileMeasurement, "users" | "dialpadUsers" | "expected" | "emulatorRequests">
    >(import.meta.url, { databaseUrl, connectionId, runId: run.id } satisfies ChildInput, {
      what: "reconcile",
      env,
      execArgv: heapMb ? [`--max-old-space-size=${heapMb}`] : workerNodeFlags(parseEnvironment(process.env)),
    });
    return {
      users,
      dialpadUsers: dialpad.company.users.size,
      expected: { drifted, orphans, driftedGroups },
      emulatorRequests: dialpad.requests.length,
      ...result,
    };
  } finally {
    await graph.close();
    await dialpad.close();
    await embedded.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  serveAsChild(child);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(JSON.stringify(await measureReconcile(Number(process.argv[2] ?? 100_000)), null, 2));
}
