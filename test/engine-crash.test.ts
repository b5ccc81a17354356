import path from "node:path";
import crypto from "node:crypto";
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startProvisioning } from "@/lib/cycle/schedule";
import { type RunningSandbox } from "@/sandbox/main";
import { describeSeed } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness } from "./engine-harness";
import { waitFor } from "./processes/fixtures";

/**
 * A worker process SIGKILLed in the middle of a fanned-out cycle: two real worker processes run the real
 * engine (test/processes/engine-worker.ts, pages of 10 users) against the emulators of this process and
 * a real PostgreSQL. The survivor takes the dead worker's units over when their lease expires and
 * finishes the cycle: every user exists once in Dialpad, and every create has its log entry.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const PAGE_SIZE = 10;
const script = path.join(import.meta.dirname, "processes", "engine-worker.ts");

interface EngineWorker {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const children: EngineWorker[] = [];

function spawnEngineWorker(name: string): EngineWorker {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      SECRET_KEY: secretKey.toString("base64"),
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
      JOB_LEASE_SECONDS: "5",
      WORKER_CONCURRENCY: "2",
      LOG_LEVEL: "warn",
      SANDBOX: "on",
      PROCESS_NAME: name,
      TEST_UNIT_PAGE_SIZE: String(PAGE_SIZE),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const worker = { name, child, output, exited };
  children.push(worker);
  return worker;
}

const alive = (worker: EngineWorker) => worker.child.exitCode === null && worker.child.signalCode === null;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "engine-crash", secretKey }));
  // Slow enough that a cycle of ~25 units of 10 users lasts a few seconds on two workers.
  sandbox.dialpad.configure({ latencyMs: 30 });
});

afterAll(async () => {
  for (const worker of children) if (alive(worker)) worker.child.kill("SIGKILL");
  await Promise.all(children.map((worker) => worker.exited));
  await sandbox?.close();
  await t?.drop();
});

describe("a worker killed mid-cycle", () => {
  test("the survivor finishes the cycle: no duplicate in Dialpad, no 409, no log entry lost, finalized once", async () => {
    const workers = [spawnEngineWorker("engine-a"), spawnEngineWorker("engine-b")];
    // Ready when each has registered its JobWorker (the id holds its pid).
    const ids = await waitFor(
      async () => {
        const rows = await t.db.worker.findMany({
          where: { pid: { in: workers.map((worker) => worker.child.pid!) } },
        });
        return rows.length === workers.length && rows;
      },
      { what: "both workers to start", timeoutMs: 20_000, intervalMs: 100 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${workers.flatMap((worker) => worker.output).join("")}`);
    });
    const byId = new Map(ids.map((row) => [row.id, workers.find((worker) => worker.child.pid === row.pid)!]));

    const requestsBefore = sandbox.dialpad.requests.length;
    const started = await startProvisioning(t.db, connectionId);
    if (!("job" in started)) throw new Error(`no cycle job: ${started.outcome}`);
    const cycle = await waitFor(
      async () => {
        const row = await t.db.cycle.findFirst({ where: { connectionId, jobId: started.job.id } });
        return row && row.totalUnits > 0 && row.completedUnits >= 3 && row;
      },
      { what: "a few units to complete", timeoutMs: 20_000 },
    );

    // The victim: a worker holding a running unit that has already created some (not all) of its users,
    // so the kill lands in the middle of the unit. Its id is `${hostname}:${pid}:…`.
    type Operation = { kind: string; resource?: { userName?: string } };
    const operationsOf = (payload: unknown) =>
      ((payload as { input: { operations?: Operation[] } }).input.operations ?? []).filter(
        (operation) => operation.kind === "create",
      );
    const running = await waitFor(
      async () => {
        const rows = await t.db.job.findMany({
          where: { cycleId: cycle.id, kind: "cycle-unit", status: "running" },
        });
        for (const row of rows) {
          // Read from Dialpad: the unit records its links in batches, so the database may lag behind.
          const creates = operationsOf(row.payload);
          const done = creates.filter(
            (operation) =>
              operation.resource?.userName &&
              sandbox.dialpad.company.findUserByUserName(operation.resource.userName),
          ).length;
          if (done >= 2 && done < creates.length - 1) return [row];
        }
        return false;
      },
      { what: "a unit half done", timeoutMs: 15_000, intervalMs: 5 },
    );
    const holderId = running[0]!.lockedBy!;
    const victim = byId.get(holderId);
    expect(victim, holderId).toBeDefined();
    expect(Number(holderId.split(":")[1])).toBe(victim!.child.pid);
    victim!.child.kill("SIGKILL");
    expect((await victim!.exited).signal).toBe("SIGKILL");
    const survivor = workers.find((worker) => worker !== victim)!;
    const orphaned = await t.db.job.findMany({
      where: { cycleId: cycle.id, kind: "cycle-unit", status: "running", lockedBy: holderId },
    });
    expect(orphaned.length).toBeGreaterThan(0);

    const ended = await waitFor(
      async () => {
        const row = await t.db.cycle.findUniqueOrThrow({ where: { id: cycle.id } });
        return row.status !== "running" && row;
      },
      { what: "the survivor to end the cycle", timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(alive(survivor)).toBe(true);
    expect(ended.status, JSON.stringify(ended.error)).toBe("succeeded");
    expect(ended.totalUnits).toBeGreaterThan(10);
    expect(ended.completedUnits).toBe(ended.totalUnits);

    // The dead worker's units were run again, by the survivor, and succeeded.
    const units = await t.db.job.findMany({ where: { cycleId: cycle.id, kind: "cycle-unit" } });
    expect(units.every((unit) => unit.status === "succeeded")).toBe(true);
    for (const unit of orphaned) {
      const after = units.find((row) => row.id === unit.id)!;
      expect(after.attempts).toBeGreaterThanOrEqual(2);
      expect(after.lockedBy ?? (after.result as { workerId?: string }).workerId).not.toBe(holderId);
    }
    const finalizers = await t.db.job.findMany({ where: { cycleId: cycle.id, kind: "cycle-finalize" } });
    expect(finalizers).toHaveLength(1);
    expect(finalizers[0]!.status).toBe("succeeded");

    // Dialpad: every in-scope user exactly once; no create was ever refused as a duplicate.
    const directory = sandbox.graph.directory;
    const seed = describeSeed(directory);
    const userNames = [...sandbox.dialpad.company.users.values()].map((user) =>
      String(user.attributes.userName).toLowerCase(),
    );
    expect(new Set(userNames).size).toBe(userNames.length);
    expect(userNames).toHaveLength(seed.inScopeUserIds.length);
    for (const id of seed.inScopeUserIds) {
      const upn = directory.getUser(id)!.userPrincipalName;
      expect(sandbox.dialpad.company.findUserByUserName(upn), upn).toBeDefined();
    }
    const posts = sandbox.dialpad.requests
      .slice(requestsBefore)
      .filter((request) => request.method === "POST" && request.path.endsWith("/Users"));
    expect(posts.filter((request) => request.status === 409)).toEqual([]);
    expect(posts.filter((request) => request.status >= 400)).toEqual([]);

    // The provisioning log: exactly one successful Create per in-scope user, and no failure.
    const logs = await t.db.provisioningLog.findMany({
      where: { cycleId: cycle.id, objectType: "User" },
      select: { sourceId: true, action: true, status: true, errorCode: true },
    });
    expect(logs.filter((entry) => entry.status === "Failure")).toEqual([]);
    const creates = new Map<string, number>();
    for (const entry of logs)
      if (entry.action === "Create" && entry.status === "Success")
        creates.set(entry.sourceId!, (creates.get(entry.sourceId!) ?? 0) + 1);
    const missing = seed.inScopeUserIds.filter((id) => !creates.has(id));
    const repeated = [...creates].filter(([, count]) => count > 1).map(([id]) => id);
    expect({ missing, repeated }).toEqual({ missing: [], repeated: [] });
    expect(ended.counts).toMatchObject({ failed: 0 });
    expect((ended.counts as { created: number }).created).toBeGreaterThanOrEqual(seed.inScopeUserIds.length);

    survivor.child.kill("SIGKILL");
    await survivor.exited;
    expect(children.every((worker) => !alive(worker))).toBe(true);
  }, 60_000);
});
