import os from "node:os";
import path from "node:path";
import { expect, inject } from "vitest";
import { ROLES, type Principal } from "@/lib/auth/verify-token";
import { resetEnvironmentCache } from "@/lib/config/env";
import { SecretBox, lastFour } from "@/lib/crypto/secrets";
import type { Cycle, Prisma } from "@/lib/db/generated/client";
import { startProvisioning } from "@/lib/cycle/schedule";
import { JobWorker } from "@/lib/jobs/runner";
import type { JobRow } from "@/lib/jobs/store";
import { waitForJob } from "@/lib/jobs/wait";
import { createMailer } from "@/lib/notify/mailer";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { createTestDatabase, type TestDatabase } from "./database";

/** A mailer that delivers to the sandbox's SMTP catcher, as a worker configured with SMTP_* would. */
export function sandboxMailer(sandbox: RunningSandbox) {
  return createMailer({
    host: sandbox.mail.host,
    port: sandbox.mail.port,
    secure: false,
    from: "provisioning@localhost",
  });
}

/**
 * A started, silent job worker for an engine test: every production handler, cycles mailing the sandbox's
 * SMTP catcher and sending to Dialpad without the 20 requests/s budget.
 */
export async function startSandboxWorker(options: {
  t: TestDatabase;
  sandbox: RunningSandbox;
  workerId: string;
  concurrency?: number;
  unitPageSize?: number;
}): Promise<JobWorker> {
  const { t, sandbox } = options;
  const silent = { info() {}, warn() {}, error() {} };
  const worker = new JobWorker({
    db: t.db,
    databaseUrl: t.url,
    log: silent,
    workerId: options.workerId,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    pollIntervalMs: 50,
    handlers: createJobHandlers({
      db: t.db,
      log: silent,
      cycle: {
        mailer: sandboxMailer(sandbox),
        requestsPerSecond: 1_000,
        ...(options.unitPageSize === undefined ? {} : { unitPageSize: options.unitPageSize }),
      },
    }),
  });
  await worker.start();
  return worker;
}

/** The admin the engine tests act as (audit entries, on-demand runs, previews). */
export const TEST_ADMIN: Principal = {
  kind: "user",
  objectId: "00000000-0000-4000-8000-00000000a11c",
  tenantId: "00000000-0000-4000-8000-000000000000",
  upn: "alice.admin@contoso.example",
  name: "Alice Admin",
  roles: [ROLES.admin],
};

export interface EngineHarness {
  sandbox: RunningSandbox;
  t: TestDatabase;
  connectionId: string;
}

/**
 * What the engine tests share: the sandbox on free ports, a fresh database, the settings the engine
 * reads from the environment, and the sandbox connection pointed at the emulated Dialpad with its key
 * sealed by `secretKey`. The emulator's own 20 requests/second is lifted unless a test asks for it:
 * pacing has tests of its own, and the 250-user seed would otherwise take 15 s per cycle.
 */
export async function startEngineHarness(options: {
  name: string;
  secretKey: Buffer;
  /** false: leave tenant URL and key unset (a test sets its own). */
  connectDialpad?: boolean;
  connection?: Prisma.ConnectionUpdateInput;
  /** A database of the test's own (e.g. on a PostgreSQL it freezes); default: a clone of the template. */
  database?: TestDatabase;
}): Promise<EngineHarness> {
  const sandbox = await startSandbox({
    dataDir: os.tmpdir(),
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
  });
  const t = options.database ?? (await createTestDatabase());
  Object.assign(process.env, {
    SECRET_KEY: options.secretKey.toString("base64"),
    DATA_DIR: path.join(os.tmpdir(), `provisioning-${options.name}-test`),
    LOG_LEVEL: "silent",
  });
  resetEnvironmentCache();
  const box = new SecretBox(options.secretKey);
  const connectionId = await ensureSandboxConnection(t.db, box, sandbox.runtime);
  const key = sandbox.runtime.dialpad.apiKey;
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      ...(options.connectDialpad === false
        ? {}
        : {
            tenantUrl: sandbox.runtime.dialpad.tenantUrl,
            secretTokenCipher: box.seal(key, `${connectionId}:secretToken`),
            secretTokenLast4: lastFour(key),
          }),
      provisioningEnabled: true,
      // Engine tests drive their cycles themselves; continuous mode's own tests ask for it.
      scheduleMode: "interval",
      ...options.connection,
    },
  });
  sandbox.dialpad.configure({ rateLimit: null });
  return { sandbox, t, connectionId };
}

/**
 * Starts a cycle the way the console does (a provisioning-cycle job for the workers) and waits until it
 * ended: the planner job succeeded and, when the cycle fanned out into units, its finalizer ran.
 */
export async function startCycleAndWaitForEnd(
  db: TestDatabase["db"],
  connectionId: string,
  timeoutMs = 30_000,
): Promise<{ planner: JobRow; cycle: Cycle }> {
  const started = await startProvisioning(db, connectionId);
  if (!("job" in started)) throw new Error(`no cycle job: ${started.outcome}`);
  const planner = await waitForJob(db, started.job.id, { timeoutMs });
  expect(planner.status).toBe("succeeded");
  const cycleId = (planner.result as { cycleId: string }).cycleId;
  const deadline = Date.now() + timeoutMs;
  let cycle = await db.cycle.findUniqueOrThrow({ where: { id: cycleId } });
  while (cycle.status === "running" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    cycle = await db.cycle.findUniqueOrThrow({ where: { id: cycleId } });
  }
  // The finalizer ends the cycle row inside its handler; its own job row ends a moment later.
  while (
    Date.now() < deadline &&
    (await db.job.count({ where: { cycleId, status: { in: ["queued", "running"] } } })) > 0
  )
    await new Promise((resolve) => setTimeout(resolve, 50));
  return { planner, cycle };
}
