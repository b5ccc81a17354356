/**
 * Scenarios 5 and 6 go through the REST API over real HTTP (bench/api-server.ts, the app's route
 * handlers with a real bearer token): provision on demand, and the provisioning logs at a million rows.
 */
import crypto from "node:crypto";
import { describeSeed } from "../../sandbox/graph/seed";
import type { BenchInfra } from "../infra";
import { percentile } from "../measure";
import { memoryOf, spawnChild, spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { round, type BenchContext } from "./context";

interface ApiServer {
  child: Child;
  baseUrl: string;
}

async function startApiServer(infra: BenchInfra, databaseUrl: string): Promise<ApiServer> {
  let port = 0;
  const child = spawnChild(
    "bench-api",
    "bench/api-server.ts",
    { ...infra.childEnv, DATABASE_URL: databaseUrl },
    (line) => {
      const match = /"msg":"api listening","port":(\d+)/.exec(line);
      if (match) port = Number(match[1]);
      return match !== null;
    },
  );
  await child.ready;
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

async function adminToken(infra: BenchInfra): Promise<string> {
  return infra.sandbox.identity.issueAccessTokenForTesting("admin@contoso.example");
}

export async function runOnDemandScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params } = context;
  const { dialpad, graph } = infra.sandbox;
  dialpad.company.reset();
  dialpad.configure({ rateLimit: null, latencyMs: 5, errorRate: 0 });
  const database = await infra.createDatabase("ondemand");
  const connectionId = await infra.createConnection(database);
  // On-demand cost must not grow with the directory: measure it at full size even when run alone.
  infra.ensureSeeded(params.users, params.groups);
  const subjects = describeSeed(graph.directory).inScopeUserIds.slice(0, params.onDemandRuns);
  const worker = spawnWorker("ondemand-worker", { databaseUrl: database.url, env: infra.childEnv });
  let api: ApiServer | undefined;
  try {
    await worker.ready;
    api = await startApiServer(infra, database.url);
    const token = await adminToken(infra);
    const latencies: number[] = [];
    const statuses = new Map<string, number>();
    // One warm-up run: the first request loads the route modules and the signing keys.
    for (const [index, objectId] of [subjects[0]!, ...subjects].entries()) {
      const started = performance.now();
      const response = await fetch(`${api.baseUrl}/api/connections/${connectionId}/provision-on-demand`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ subjects: [{ objectId, objectTypeName: "User" }] }),
      });
      const body = (await response.json()) as { status?: string; action?: string };
      const elapsed = performance.now() - started;
      if (index === 0) continue;
      latencies.push(elapsed);
      const key = response.ok ? `${body.action} ${body.status}` : `HTTP ${response.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    return {
      id: 5,
      title: `Provision on demand, ${latencies.length} runs`,
      figure: `p50 ${round(p50)} ms, p95 ${round(p95)} ms`,
      goal: "p95 < 1 s",
      met: latencies.length > 0 && p95 < 1_000,
      details: [
        `Outcomes: ${[...statuses].map(([key, count]) => `${key} × ${count}`).join(", ")}.`,
        `POST /api/connections/{id}/provision-on-demand over HTTP, one at a time, each a different in-scope user not yet in Dialpad; the route queues an on-demand job, a production worker (worker/index.ts) runs it, the route polls for the result. Max ${round(Math.max(...latencies))} ms.`,
      ],
    };
  } finally {
    if (api) await stopChild(api.child);
    await stopChild(worker);
    await infra.dropDatabase(database);
  }
}

const FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Amelia", "Mateo", "Chloé", "Zoë"];
const SURNAMES = ["Rivera", "Nguyen", "Smith", "Okafor", "Larsen", "Tanaka", "Dubois", "Kowalski"];

/** The UPN insertLogs gives row `i` (its user's only entry). */
function upnOfRow(i: number): string {
  const given = FIRST_NAMES[i % 8]!.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  return `${given}.${SURNAMES[Math.floor(i / 8) % 8]!.toLowerCase()}.${i}@contoso.example`;
}

const FILTERS: { name: string; query: (ids: { cycleId: string; rows: number }) => string }[] = [
  { name: "no filter (first page)", query: () => "" },
  { name: "status=Failure", query: () => "status=Failure" },
  { name: "action=Update", query: () => "action=Update" },
  { name: "identity search (display name)", query: () => "identity=Rivera" },
  {
    name: "identity search (one user's UPN, in capitals)",
    query: ({ rows }) => `identity=${encodeURIComponent(upnOfRow(Math.floor(rows / 2)).toUpperCase())}`,
  },
  {
    name: "identity search (one user's name, without its accent)",
    // Rows 63, 127, … (mod 64) are "Zoë Kowalski <row>".
    query: ({ rows }) => `identity=${encodeURIComponent(`zoe kowalski ${Math.floor(rows / 128) * 64 + 63}`)}`,
  },
  {
    name: "last 24 hours",
    query: () => `from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`,
  },
  { name: "one cycle, Failure", query: ({ cycleId }) => `cycleId=${cycleId}&status=Failure` },
];

export async function runLogsScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params, log } = context;
  const database = await infra.createDatabase("logs");
  const connectionId = await infra.createConnection(database);
  const exportCycleId = crypto.randomUUID();
  let api: ApiServer | undefined;
  try {
    log(`inserting ${params.logRows.toLocaleString("en")} provisioning log rows`);
    const inserted = performance.now();
    await insertLogs(database.db, connectionId, exportCycleId, params.logRows, params.exportRows);
    await database.db.$executeRawUnsafe(`ANALYZE "ProvisioningLog"`);
    const insertMs = performance.now() - inserted;
    api = await startApiServer(infra, database.url);
    const token = await adminToken(infra);
    const get = async (path: string) => {
      const started = performance.now();
      const response = await fetch(`${api!.baseUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await response.text();
      if (!response.ok)
        // The server's own log says why; its last lines go with the error.
        throw new Error(
          `${path}: HTTP ${response.status} ${body.slice(0, 300)}\n${api!.child.tail.slice(-5).join("\n")}`,
        );
      return { ms: performance.now() - started, body };
    };
    const pageRuns = 30;
    const pageResults: { name: string; p50: number; p95: number; items: number }[] = [];
    await get(`/api/connections/${connectionId}/logs`);
    for (const filter of FILTERS) {
      const latencies: number[] = [];
      let items = 0;
      for (let run = 0; run < pageRuns; run += 1) {
        const query = filter.query({ cycleId: exportCycleId, rows: params.logRows });
        const { ms, body } = await get(
          `/api/connections/${connectionId}/logs?limit=50${query ? `&${query}` : ""}`,
        );
        latencies.push(ms);
        items = (JSON.parse(body) as { items: unknown[] }).items.length;
      }
      pageResults.push({
        name: filter.name,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        items,
      });
    }
    const worstPage = Math.max(...pageResults.map((result) => result.p95));

    const exportRuns = 3;
    const exportTimes: number[] = [];
    const before = memoryOf(api.child.process.pid);
    let exportedLines = 0;
    let exportedBytes = 0;
    for (let run = 0; run < exportRuns; run += 1) {
      const started = performance.now();
      const response = await fetch(
        `${api.baseUrl}/api/connections/${connectionId}/logs/export?format=csv&cycleId=${exportCycleId}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      if (!response.ok || !response.body) throw new Error(`export: HTTP ${response.status}`);
      let lines = 0;
      let bytes = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        for (const byte of chunk) if (byte === 10) lines += 1;
      }
      exportTimes.push(performance.now() - started);
      exportedLines = lines - 1;
      exportedBytes = bytes;
    }
    const after = memoryOf(api.child.process.pid);
    const exportP95 = percentile(exportTimes, 95);
    const growth = before && after ? after.peakMiB - before.peakMiB : NaN;
    return {
      id: 6,
      title: `Provisioning logs API at ${params.logRows.toLocaleString("en")} rows`,
      figure: `filtered page p95 ${round(worstPage)} ms (worst filter); CSV export of ${exportedLines.toLocaleString("en")} rows ${round(exportP95)} ms`,
      goal: "page p95 < 150 ms; export streamed in constant memory",
      met: worstPage < 150 && exportedLines === params.exportRows && growth < 100,
      details: [
        ...pageResults.map(
          (result) =>
            `GET /logs?limit=50 ${result.name}: p50 ${round(result.p50)} ms, p95 ${round(result.p95)} ms over ${pageRuns} requests (${result.items} items).`,
        ),
        `CSV export (${exportedLines.toLocaleString("en")} rows, ${round(exportedBytes / 1024 ** 2, 1)} MiB): ${exportTimes.map((ms) => `${round(ms)} ms`).join(", ")}; the API process's peak RSS went from ${round(before?.peakMiB ?? NaN)} MiB to ${round(after?.peakMiB ?? NaN)} MiB (+${round(growth)} MiB for ${round((exportedBytes * exportRuns) / 1024 ** 2)} MiB streamed).`,
        `Rows inserted with one INSERT … SELECT generate_series in ${round(insertMs / 1000, 1)} s.`,
        "Served by bench/api-server.ts: the app's route handlers and token check over real HTTP, without Next.js's router.",
      ],
    };
  } finally {
    if (api) await stopChild(api.child);
    await infra.dropDatabase(database);
  }
}

/**
 * Log rows shaped like the engine's (the EntryImport step holds the user's UPN and mail, which the identity
 * filter indexes): a few steps and modified properties each, 2 % failures, 30 %
 * updates, spread over 30 days; the newest `exportRows` rows belong to one cycle (the export's filter).
 */
async function insertLogs(
  db: import("../../lib/db/client").Database,
  connectionId: string,
  exportCycleId: string,
  rows: number,
  exportRows: number,
): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO "ProvisioningLog" (id, "connectionId", "activityDateTime", "cycleId", "changeId", "jobId",
       action, status, "objectType", "sourceId", "sourceDisplayName", "targetId", "targetDisplayName",
       "modifiedProperties", steps, "errorCode", "errorCategory", "errorReason", "recommendedAction",
       "durationMs", "initiatedBy")
     SELECT gen_random_uuid(), $1::uuid,
       now() - ((${rows} - i) * (interval '30 days' / ${rows})),
       CASE WHEN i > ${rows - exportRows} THEN $2::uuid ELSE md5('cycle' || (i / 10000))::uuid END,
       gen_random_uuid(), NULL,
       CASE WHEN i % 10 < 6 THEN 'Create' WHEN i % 10 < 9 THEN 'Update' ELSE 'Other' END,
       CASE WHEN i % 50 = 0 THEN 'Failure' WHEN i % 10 = 9 THEN 'Skipped' ELSE 'Success' END,
       'User', md5('user' || i)::uuid::text,
       ($3::text[])[1 + i % 8] || ' ' || ($4::text[])[1 + (i / 8) % 8] || ' ' || i,
       md5('target' || i),
       ($3::text[])[1 + i % 8] || ' ' || ($4::text[])[1 + (i / 8) % 8] || ' ' || i,
       jsonb_build_array(
         jsonb_build_object('displayName', 'title', 'oldValue', 'Analyst', 'newValue', 'Team Lead'),
         jsonb_build_object('displayName', 'department', 'oldValue', NULL, 'newValue', 'Sales')),
       jsonb_build_array(
         jsonb_build_object('name', 'EntryImport', 'type', 'Import', 'status', 'success',
           'description', 'Retrieved the user from Microsoft Entra ID',
           'details', jsonb_build_object('id', md5('user' || i)::uuid::text,
             'userPrincipalName', ($5::text[])[1 + i % 8] || '.' || lower(($4::text[])[1 + (i / 8) % 8]) || '.' || i || '@contoso.example',
             'mail', ($5::text[])[1 + i % 8] || '.' || lower(($4::text[])[1 + (i / 8) % 8]) || '.' || i || '@contoso.example')),
         jsonb_build_object('name', 'EntryDetermineScope', 'type', 'Scoping', 'status', 'success',
           'description', 'The user is assigned to the Dialpad application', 'details', '{}'::jsonb),
         jsonb_build_object('name', 'EntryExportAdd', 'type', 'Export', 'status', 'success',
           'description', 'Created in Dialpad', 'details', '{}'::jsonb)),
       CASE WHEN i % 50 = 0 THEN 'SystemForCrossDomainIdentityManagementBadRequest' END,
       CASE WHEN i % 50 = 0 THEN 'nonServiceFailure' END,
       CASE WHEN i % 50 = 0 THEN 'Dialpad refused the phone number' END,
       CASE WHEN i % 50 = 0 THEN 'Fix the attribute in Microsoft Entra ID' END,
       (i % 400), 'System'
     FROM generate_series(1, ${rows}) AS i`,
    connectionId,
    exportCycleId,
    FIRST_NAMES,
    SURNAMES,
    FIRST_NAMES.map((name) => name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()),
  );
}
