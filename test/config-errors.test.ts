import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, test } from "vitest";
import type { Prisma } from "@/lib/db/generated/client";
import { resetEnvironmentCache } from "@/lib/config/env";
import { resetServerContext } from "@/lib/server/context";
import { ensureSandboxConnection } from "@/lib/server/sandbox-connection";
import { forgetExtensionCatalogs } from "@/lib/server/source-attributes";
import { SecretBox, lastFour } from "@/lib/crypto/secrets";
import { startProvisioning } from "@/lib/cycle/schedule";
import { waitForJob } from "@/lib/jobs/wait";
import type { JobWorker } from "@/lib/jobs/runner";
import { defaultDialpadMapping, exportEntraSchema, type TMappingConfig } from "@/lib/mapping";
import { startSandbox, type RunningSandbox } from "@/sandbox/main";
import { createTestDatabase, type TestDatabase } from "./database";
import * as mappingsRoute from "@/app/api/connections/[connectionId]/mappings/route";
import * as schemaRoute from "@/app/api/connections/[connectionId]/schema/route";
import * as statusRoute from "@/app/api/connections/[connectionId]/status/route";
import { startSandboxWorker } from "./engine-harness";

/**
 * Configuration errors fail fast: Save refuses a source attribute Microsoft Graph does not have, and a
 * cycle that meets one anyway (a mapping written to the database by hand, an extension removed from the
 * tenant) fails once, at once, says which attribute and what to do, and e-mails the admin. Real bearer
 * tokens, real PostgreSQL, a real worker, real HTTPS to the Graph and Dialpad emulators, a real SMTP catcher.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let worker: JobWorker;
let connectionId: string;
let tokens: Record<"admin" | "reader", string>;
const secretKey = crypto.randomBytes(32).toString("base64");
const ADMIN_MAIL = "config-failures@contoso.example";
const HR_APP_ID = "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09";
const COST_CENTER = "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_costCenter";
const UNREGISTERED = "extension_7d3c2b1a0f9e4d8cb7a65e4d3c2b1a09_costCentre";

beforeAll(async () => {
  sandbox = await startSandbox({
    dataDir: os.tmpdir(),
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
  });
  t = await createTestDatabase();
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    SANDBOX: "on",
    SECRET_KEY: secretKey,
    DATA_DIR: path.join(os.tmpdir(), "provisioning-config-errors-test"),
    AUTH_AUTHORITY: sandbox.runtime.identity.authority,
    AUTH_ISSUER: sandbox.runtime.identity.issuer,
    AUTH_JWKS_URI: sandbox.runtime.identity.jwksUri,
    AUTH_API_AUDIENCE: sandbox.runtime.console.apiAudience,
    LOG_LEVEL: "silent",
  });
  resetEnvironmentCache();
  resetServerContext();
  const box = new SecretBox(Buffer.from(secretKey, "base64"));
  connectionId = await ensureSandboxConnection(t.db, box, sandbox.runtime);
  const key = sandbox.runtime.dialpad.apiKey;
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      // The tests run each cycle themselves; continuous mode would add its own.
      scheduleMode: "interval",
      tenantUrl: sandbox.runtime.dialpad.tenantUrl,
      secretTokenCipher: box.seal(key, `${connectionId}:secretToken`),
      secretTokenLast4: lastFour(key),
    },
  });
  sandbox.dialpad.configure({ rateLimit: null });
  sandbox.graph.directory.extensions.register({
    appId: HR_APP_ID,
    appDisplayName: "Contoso HR Sync",
    name: "costCenter",
    targetObjects: ["User"],
  });
  worker = await startSandboxWorker({ t, sandbox, workerId: "config-errors-worker" });
  tokens = {
    admin: await sandbox.identity.issueAccessTokenForTesting("admin@contoso.example"),
    reader: await sandbox.identity.issueAccessTokenForTesting("reader@contoso.example"),
  };
});

afterAll(async () => {
  await worker?.stop(1_000);
  await sandbox?.close();
  await t?.drop();
});

beforeEach(() => forgetExtensionCatalogs());

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function call(handler: Handler, options: { token: string; method?: string; body?: unknown }) {
  const response = await handler(
    new Request("http://localhost/api/test", {
      method: options.method ?? "GET",
      headers: { "content-type": "application/json", authorization: `Bearer ${options.token}` },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve({ connectionId }) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const TITLE_INDEX = defaultDialpadMapping().users.attributeMappings.findIndex(
  (mapping) => mapping.target === "title",
);

function configWithTitle(type: "Direct" | "Expression", source: string): TMappingConfig {
  const config = defaultDialpadMapping();
  config.users.attributeMappings[TITLE_INDEX]!.type = type;
  config.users.attributeMappings[TITLE_INDEX]!.source = source;
  return config;
}

async function storedMappings(): Promise<unknown> {
  return (await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } })).mappings;
}

async function save(config: unknown) {
  return call(mappingsRoute.PUT, { token: tokens.admin, method: "PUT", body: config });
}

describe("Save refuses source attributes Microsoft Graph does not have", () => {
  test("[jobTitel] inside a function: 422 at the mapping's field with the reference's position; nothing saved", async () => {
    const before = await storedMappings();
    const response = await save(configWithTitle("Expression", 'Join(" ", [givenName], [jobTitel])'));
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      {
        field: `users.attributeMappings.${TITLE_INDEX}.source`,
        message:
          'the source "jobTitel" is not an attribute of microsoft.graph.user in Microsoft Graph (line 1, column 24)',
      },
    ]);
    expect(await storedMappings()).toEqual(before);
  });

  test("a misspelled scoping clause attribute is refused at the clause", async () => {
    const config = defaultDialpadMapping();
    config.users.scope = {
      groups: [
        {
          name: "Sales",
          clauses: [
            { operatorName: "EQUALS", sourceOperandName: "departmnet", targetOperand: { values: ["Sales"] } },
          ],
        },
      ],
    };
    const response = await save(config);
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      {
        field: "users.scope.groups.0.clauses.0.sourceOperandName",
        message: 'the source "departmnet" is not an attribute of microsoft.graph.user in Microsoft Graph',
      },
    ]);
  });

  test("an extension attribute Graph has is accepted; one it does not have is refused", async () => {
    const accepted = await save(configWithTitle("Direct", COST_CENTER));
    expect(accepted.status).toBe(200);
    const stored = (await storedMappings()) as TMappingConfig;
    expect(stored.users.attributeMappings[TITLE_INDEX]!.source).toBe(COST_CENTER);

    const refused = await save(configWithTitle("Expression", `ToUpper([${UNREGISTERED}])`));
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        field: `users.attributeMappings.${TITLE_INDEX}.source`,
        message: `the source directory extension attribute "${UNREGISTERED}" is not registered in this tenant for users (line 1, column 9)`,
      },
    ]);
    expect(((await storedMappings()) as TMappingConfig).users.attributeMappings[TITLE_INDEX]!.source).toBe(
      COST_CENTER,
    );
  });

  test("when Graph cannot be reached, an extension name of the documented shape is accepted rather than blocking Save", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const original = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    await t.db.connection.update({
      where: { id: connectionId },
      data: { graphBaseUrl: `http://127.0.0.1:${port}/v1.0` },
    });
    try {
      const started = Date.now();
      const response = await save(configWithTitle("Direct", UNREGISTERED));
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
      // A typo is still refused without Graph: the known properties are data, not a Graph call.
      expect((await save(configWithTitle("Direct", "jobTitel"))).status).toBe(422);
    } finally {
      await t.db.connection.update({
        where: { id: connectionId },
        data: { graphBaseUrl: original.graphBaseUrl, mappings: original.mappings ?? undefined },
      });
    }
  });

  test("the schema JSON import applies the same check", async () => {
    const before = await storedMappings();
    const document = exportEntraSchema(configWithTitle("Expression", 'Append([jobTitel], "")'));
    const response = await call(schemaRoute.PUT, { token: tokens.admin, method: "PUT", body: document });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      {
        field: `synchronizationRules.0.objectMappings.0.attributeMappings.${TITLE_INDEX}.source.expression`,
        message:
          'the source "jobTitel" is not an attribute of microsoft.graph.user in Microsoft Graph (line 1, column 8)',
      },
    ]);
    expect(await storedMappings()).toEqual(before);
  });
});

/** Writes a mapping past Save's check, as an older release or a hand edit of the database would. */
async function injectMapping(config: TMappingConfig) {
  await t.db.connection.update({
    where: { id: connectionId },
    data: {
      mappings: config as unknown as Prisma.InputJsonValue,
      provisioningEnabled: true,
      paused: false,
      notifyOnFailure: true,
      notificationEmail: ADMIN_MAIL,
    },
  });
}

/** Starts a cycle job, waits for it and its cycle to end, and stops the chain of scheduled cycles. */
async function runFailingCycle() {
  const started = await startProvisioning(t.db, connectionId);
  if (!("job" in started)) throw new Error(`no cycle job: ${started.outcome}`);
  const begun = Date.now();
  const job = await waitForJob(t.db, started.job.id, { timeoutMs: 20_000 });
  const elapsedMs = Date.now() - begun;
  const deadline = Date.now() + 10_000;
  let cycle = await t.db.cycle.findFirstOrThrow({ where: { jobId: job.id } });
  while (cycle.status === "running" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    cycle = await t.db.cycle.findFirstOrThrow({ where: { jobId: job.id } });
  }
  await t.db.job.deleteMany({ where: { connectionId, kind: "provisioning-cycle", status: "queued" } });
  return { job, cycle, elapsedMs };
}

describe("a cycle that meets a configuration error", () => {
  test("[jobTitel] written to the database: fails once within seconds, names it, shows in the status and e-mails the admin", async () => {
    await injectMapping(configWithTitle("Expression", 'Join(" ", [jobTitel], [department])'));
    const mailsBefore = sandbox.mail.messages.length;
    const graphRequestsBefore = sandbox.graph.requests.length;

    const { job, cycle, elapsedMs } = await runFailingCycle();
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(1);
    expect(elapsedMs).toBeLessThan(10_000);
    expect(job.lastError).toContain("jobTitel");
    expect(cycle.status).toBe("failed");
    expect(cycle.error).toMatchObject({
      code: "ConfigurationError",
      category: "configuration",
      attribute: "jobTitel",
      objectType: "users",
      field: `users.attributeMappings.${TITLE_INDEX}.source`,
      recommendedAction: expect.stringContaining('Fix the mapping of "jobTitel" in Mappings'),
    });
    // Stopped before asking Graph for users with a property it does not have.
    expect(sandbox.graph.requests.slice(graphRequestsBefore).some((r) => r.path.includes("jobTitel"))).toBe(
      false,
    );

    const status = await call(statusRoute.GET, { token: tokens.reader });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      code: "Active",
      lastCycle: { id: cycle.id, status: "failed" },
      configurationFailure: {
        category: "configuration",
        attribute: "jobTitel",
        recommendedAction: expect.stringContaining('Fix the mapping of "jobTitel" in Mappings'),
      },
    });

    const mail = await sandbox.mail.waitFor(
      (message) => message.to.includes(ADMIN_MAIL) && message.text.includes(cycle.id),
      5_000,
    );
    expect(mail.subject).toBe(`Provisioning failed for "${await connectionName()}": configuration error`);
    expect(mail.text).toContain("Attribute: jobTitel");
    expect(mail.text).toContain('Recommended action: Fix the mapping of "jobTitel" in Mappings');
    expect(sandbox.mail.messages.length - mailsBefore).toBe(1);

    // A few seconds later the job has still run only once: no retry was queued.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const again = await t.db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(again).toMatchObject({ status: "failed", attempts: 1 });
  });

  test("an extension attribute Graph no longer has: Graph's 400 on $select fails the cycle once, as a configuration error", async () => {
    await injectMapping(configWithTitle("Direct", UNREGISTERED));
    const graphRequestsBefore = sandbox.graph.requests.length;

    const { job, cycle } = await runFailingCycle();
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    const refused = sandbox.graph.requests
      .slice(graphRequestsBefore)
      .filter((request) => request.path.includes(UNREGISTERED));
    expect(refused.map((request) => request.status)).toEqual([400]);
    expect(cycle.error).toMatchObject({
      category: "configuration",
      attribute: UNREGISTERED,
      message: expect.stringContaining(`Could not find a property named '${UNREGISTERED}'`),
      recommendedAction: expect.stringContaining(`Fix the mapping of "${UNREGISTERED}" in Mappings`),
    });
    await sandbox.mail.waitFor(
      (message) => message.to.includes(ADMIN_MAIL) && message.text.includes(cycle.id),
      5_000,
    );
  });

  test("with the e-mail option off, the cycle still fails fast but no e-mail is sent", async () => {
    await injectMapping(configWithTitle("Direct", "jobTitel"));
    await t.db.connection.update({ where: { id: connectionId }, data: { notifyOnFailure: false } });
    const { job, cycle } = await runFailingCycle();
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sandbox.mail.messages.some((message) => message.text.includes(cycle.id))).toBe(false);
  });
});

async function connectionName(): Promise<string> {
  return (await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } })).name;
}
