import crypto from "node:crypto";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { JobWorker } from "@/lib/jobs/runner";
import { WEBHOOK_MAX_ATTEMPTS } from "@/lib/notify/webhook-events";
import { verifyWebhookSignature } from "@/lib/notify/webhook";
import { createJobHandlers } from "@/lib/server/job-handlers";
import { DIALPAD_USER_ROLE_ID } from "@/sandbox/graph/directory";
import { describeSeed } from "@/sandbox/graph/seed";
import { ensureSandboxTls } from "@/sandbox/tls";
import { startCycleAndWaitForEnd } from "./engine-harness";
import { startTestServer, type RecordedRequest, type TestServer } from "./http-server";
import { callOperation, startHarness, type ApiResponse, type Harness } from "./security-harness";

/**
 * Webhooks end to end: settings through the API (field errors for unsafe URLs, the secret write-only),
 * the synchronous test event, and events from real cycles delivered by a real worker over HTTPS to a
 * receiver on loopback, signed, retried with backoff through the job store, and audited.
 */
let h: Harness;
let worker: JobWorker;
let receiver: TestServer;
/** The receiver's answer to a request, given how many requests carried its Webhook-Id so far. */
let answer: (attemptOfThisEvent: number) => number = () => 204;
const receivedAt: number[] = [];
const responses: ApiResponse[] = [];
const SECRET = `whsec-${crypto.randomBytes(24).toString("hex")}`;

beforeAll(async () => {
  h = await startHarness("webhooks-test");
  // The harness's worker retries after 5 s and more; this file's worker after ~0.1 s, so a receiver that
  // fails a few times costs the test well under a second. Only one worker may run, or it could take a
  // retry with the long backoff.
  await h.worker.stop(1_000);
  worker = new JobWorker({
    db: h.t.db,
    databaseUrl: h.t.url,
    log: h.log,
    workerId: "webhooks-worker",
    pollIntervalMs: 50,
    retryBaseMs: 100,
    handlers: createJobHandlers({
      db: h.t.db,
      log: h.log,
      cycle: { mailer: h.mailer, requestsPerSecond: 1_000 },
    }),
  });
  await worker.start();
  const tls = await ensureSandboxTls(inject("sandboxTlsDir"));
  receiver = await startTestServer(
    (request, response: ServerResponse, index) => {
      receivedAt[index] = Date.now();
      const id = request.headers["webhook-id"];
      const attempt = receiver.requests.filter((other) => other.headers["webhook-id"] === id).length;
      response.writeHead(answer(attempt)).end();
    },
    { key: tls.key, cert: tls.cert },
  );
});

afterAll(async () => {
  await worker?.stop(1_000);
  await receiver?.close();
  await h?.close();
});

async function api(...args: Parameters<typeof callOperation>): Promise<ApiResponse> {
  const response = await callOperation(...args);
  responses.push(response);
  return response;
}

const admin = () => ({ token: h.tokens.admin, params: { connectionId: h.connectionId } });

/** HMAC-SHA256 over "<id>.<timestamp>.<body>", computed here rather than with the product's helper. */
function expectSigned(request: RecordedRequest) {
  const id = String(request.headers["webhook-id"]);
  const timestamp = String(request.headers["webhook-timestamp"]);
  const expected = crypto
    .createHmac("sha256", SECRET)
    .update(`${id}.${timestamp}.${request.body}`)
    .digest("hex");
  expect(request.headers["webhook-signature"]).toBe(`v1=${expected}`);
  expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(60);
  expect(
    verifyWebhookSignature({
      secret: SECRET,
      id,
      timestamp,
      signature: String(request.headers["webhook-signature"]),
      body: request.body,
    }),
  ).toEqual({ ok: true });
  const event = JSON.parse(request.body) as {
    id: string;
    type: string;
    occurredAt: string;
    connectionId: string;
    data: Record<string, unknown>;
  };
  expect(event.id).toBe(id);
  expect(event.connectionId).toBe(h.connectionId);
  expect(request.method).toBe("POST");
  expect(request.headers["content-type"]).toBe("application/json");
  return event;
}

async function waitFor<T>(
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const received = (type: string) =>
  receiver.requests.filter((request) => (JSON.parse(request.body) as { type: string }).type === type);

async function auditFor(eventId: string, activity: string) {
  const entries = await h.t.db.auditEntry.findMany({ where: { connectionId: h.connectionId, activity } });
  return entries.find((entry) => JSON.stringify(entry.changes).includes(eventId));
}

async function runCycle() {
  const { cycle } = await startCycleAndWaitForEnd(h.t.db, h.connectionId, 60_000);
  // Keep the schedule from running cycles of its own between tests.
  await h.t.db.job.deleteMany({
    where: { connectionId: h.connectionId, kind: "provisioning-cycle", status: "queued" },
  });
  return cycle;
}

describe("settings", () => {
  test("unsafe URLs and a missing secret are refused field by field, and nothing is saved", async () => {
    const before = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ webhookUrl: "http://hooks.example.com/x", webhookSecret: SECRET }, "webhookUrl", /must use https/],
      [
        { webhookUrl: "https://10.1.2.3/hook", webhookSecret: SECRET },
        "webhookUrl",
        /points to 10\.1\.2\.3, a private address/,
      ],
      [
        { webhookUrl: "https://169.254.169.254/latest", webhookSecret: SECRET },
        "webhookUrl",
        /169\.254\.169\.254, a link-local address/,
      ],
      [{ webhookUrl: "not a url", webhookSecret: SECRET }, "webhookUrl", /must be a URL/],
      [{ webhookUrl: receiver.url }, "webhookSecret", /signing secret/],
      [{ webhookUrl: receiver.url, webhookSecret: "short" }, "webhookSecret", /at least 16/],
      [{ webhookEvents: ["cycle.finished", "user.created"] }, "webhookEvents", /./],
    ];
    for (const [settings, field, message] of cases) {
      const response = await api("updateConnection", { ...admin(), body: { settings } });
      expect(response.status, JSON.stringify(settings)).toBe(422);
      const errors = response.body?.errors as { field: string; message: string }[];
      const error = errors.find((entry) => entry.field.replace(/^settings\.|\.\d+$/g, "") === field);
      expect(error?.message, `${JSON.stringify(settings)}: ${response.text}`).toMatch(message);
      expect(response.text).not.toContain(SECRET);
    }
    const after = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
    expect(after.version).toBe(before.version);
    expect(after.webhookUrl).toBeNull();
  });

  test("a webhook is saved with its secret write-only (last four only) and audited masked", async () => {
    const response = await api("updateConnection", {
      ...admin(),
      body: {
        settings: {
          webhookUrl: receiver.url + "/hooks/provisioning",
          webhookSecret: SECRET,
          webhookEvents: ["cycle.finished", "quarantine.entered", "quarantine.left", "deletions.held"],
          // For the cycles below: the emulated Dialpad and a threshold five unassignments exceed.
          tenantUrl: h.sandbox.runtime.dialpad.tenantUrl,
          secretToken: h.sandbox.runtime.dialpad.apiKey,
          provisioningEnabled: true,
          deletionThreshold: 3,
        },
      },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body?.webhook).toEqual({
      url: `${receiver.url}/hooks/provisioning`,
      secret: { isSet: true, last4: SECRET.slice(-4), updatedAt: expect.any(String) },
      events: ["cycle.finished", "quarantine.entered", "quarantine.left", "deletions.held"],
    });
    const read = await api("getConnection", admin());
    expect(read.body?.webhook).toMatchObject({ secret: { isSet: true, last4: SECRET.slice(-4) } });
    const audit = await h.t.db.auditEntry.findFirst({
      where: { connectionId: h.connectionId, activity: "Update provisioning setting or credentials" },
      orderBy: { seq: "desc" },
    });
    expect(audit?.changes).toMatchObject({
      webhookSecret: { before: "(not set)", after: `••••${SECRET.slice(-4)}` },
      webhookUrl: { before: null, after: `${receiver.url}/hooks/provisioning` },
    });
  });
});

describe("test event", () => {
  test("Send test event posts a signed webhook.test now and reports the receiver's answer", async () => {
    const before = receiver.requests.length;
    const response = await api("webhookTest", { ...admin(), body: {} });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      ok: true,
      status: 204,
      message: expect.stringMatching(/HTTP 204/),
    });
    const request = receiver.requests[before]!;
    expect(request.url).toBe("/hooks/provisioning");
    const event = expectSigned(request);
    expect(event).toMatchObject({ type: "webhook.test", id: response.body?.eventId });
    expect(await auditFor(receiver.url, "Webhook test")).toMatchObject({
      result: "success",
      actorUpn: "admin@contoso.example",
    });
  });

  test("a receiver that is down is reported in words, and a typed unsafe URL is a field error", async () => {
    const down = await startTestServer(() => {});
    await down.close();
    const refused = await api("webhookTest", { ...admin(), body: { webhookUrl: down.url } });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      ok: false,
      status: null,
      // The same words for a closed, filtered or resetting port: nothing tells which ports are open.
      message: `Could not connect to the receiver at ${down.url}.`,
    });
    const unsafe = await api("webhookTest", { ...admin(), body: { webhookUrl: "https://192.168.0.10/x" } });
    expect(unsafe.status).toBe(422);
    expect(unsafe.body?.errors).toEqual([
      expect.objectContaining({ field: "webhookUrl", message: expect.stringMatching(/private/) }),
    ]);
  });
});

describe("events from cycles", () => {
  test(
    "a cycle's end delivers a signed cycle.finished with its counts, once",
    { timeout: 90_000 },
    async () => {
      const cycle = await runCycle();
      expect(cycle.status).toBe("succeeded");
      const request = await waitFor(() => received("cycle.finished").find((r) => r.body.includes(cycle.id)));
      const event = expectSigned(request);
      expect(event.data).toMatchObject({
        cycleId: cycle.id,
        status: "succeeded",
        cycleType: "initial",
        counts: expect.objectContaining({ created: expect.any(Number) }),
      });
      expect((event.data.counts as { created: number }).created).toBeGreaterThan(0);
      const delivered = await waitFor(() => auditFor(event.id, "Webhook delivered"));
      expect(delivered.changes).toMatchObject({
        event: { after: "cycle.finished" },
        statusCode: { after: 204 },
        attempt: { after: `1 of ${WEBHOOK_MAX_ATTEMPTS}` },
        receiver: { after: receiver.url },
      });
      expect(received("cycle.finished").filter((r) => r.body.includes(cycle.id))).toHaveLength(1);
    },
  );

  test(
    "a receiver failing twice gets the event on the 3rd attempt; the audit log says so",
    { timeout: 90_000 },
    async () => {
      answer = (attempt) => (attempt <= 2 ? 500 : 204);
      try {
        const cycle = await runCycle();
        const attempts = await waitFor(() => {
          const all = received("cycle.finished").filter((r) => r.body.includes(cycle.id));
          return all.length >= 3 ? all : undefined;
        });
        expect(attempts).toHaveLength(3);
        const ids = new Set(attempts.map((r) => r.headers["webhook-id"]));
        expect(ids.size).toBe(1);
        for (const attempt of attempts) expectSigned(attempt);
        const eventId = [...ids][0] as string;
        const delivered = await waitFor(() => auditFor(eventId, "Webhook delivered"));
        expect(delivered.changes).toMatchObject({
          attempt: { after: `3 of ${WEBHOOK_MAX_ATTEMPTS}` },
          statusCode: { after: 204 },
        });
        expect(await auditFor(eventId, "Webhook failed")).toBeUndefined();
        // The audit entry is written by the delivery itself, a moment before its job is marked done.
        const job = await waitFor(async () => {
          const row = await h.t.db.job.findFirstOrThrow({
            where: { kind: "webhook", payload: { path: ["event", "id"], equals: eventId } },
          });
          return row.status === "running" ? undefined : row;
        });
        expect(job).toMatchObject({
          status: "succeeded",
          attempts: 3,
          lastError: "The receiver answered HTTP 500.",
        });
      } finally {
        answer = () => 204;
      }
    },
  );

  test(
    "held deletions send deletions.held and quarantine.entered; Allow deletes sends quarantine.left",
    { timeout: 90_000 },
    async () => {
      const directory = h.sandbox.graph.directory;
      const assignedGroups = new Set(
        directory
          .listAssignments()
          .filter((assignment) => assignment.principalType === "Group")
          .map((assignment) => assignment.principalId),
      );
      const victims = describeSeed(directory)
        .inScopeUserIds.filter((id) => directory.memberOf(id).every((group) => !assignedGroups.has(group)))
        .filter((id) => directory.getUser(id)!.accountEnabled !== false)
        .slice(0, 5);
      expect(victims).toHaveLength(5);
      for (const id of victims) directory.unassign(id);
      const cycle = await runCycle();
      const held = expectSigned(
        await waitFor(() => received("deletions.held").find((r) => r.body.includes(cycle.id))),
      );
      expect(held.data).toMatchObject({ cycleId: cycle.id, count: 5, threshold: 3 });
      expect(held.data.sample).toHaveLength(5);
      const entered = expectSigned(await waitFor(() => received("quarantine.entered")[0]));
      expect(entered.data).toMatchObject({
        reason: "TooManyDeletes",
        previousReason: null,
        cycleId: cycle.id,
      });
      await waitFor(() => auditFor(entered.id, "Webhook delivered"));

      // Allow deletes leaves the quarantine. This receiver is down for good: six attempts, then the audit
      // log records the failure with the last status code.
      answer = () => 503;
      try {
        const allowed = await api("allowDeletes", admin());
        expect(allowed.body).toEqual({ executed: 5, failed: 0 });
        const attempts = await waitFor(() => {
          const all = received("quarantine.left");
          return all.length >= WEBHOOK_MAX_ATTEMPTS ? all : undefined;
        });
        const left = expectSigned(attempts[0]!);
        expect(left.data).toMatchObject({
          previousReason: "TooManyDeletes",
          why: "Allow deletes by admin@contoso.example.",
        });
        const failed = await waitFor(() => auditFor(left.id, "Webhook failed"));
        expect(failed).toMatchObject({ result: "failure", actorUpn: "System" });
        expect(failed.changes).toMatchObject({
          event: { after: "quarantine.left" },
          statusCode: { after: 503 },
          attempt: { after: `${WEBHOOK_MAX_ATTEMPTS} of ${WEBHOOK_MAX_ATTEMPTS}` },
          error: { after: "The receiver answered HTTP 503." },
        });
        const job = await waitFor(async () => {
          const row = await h.t.db.job.findFirst({
            where: { kind: "webhook", payload: { path: ["event", "id"], equals: left.id } },
          });
          return row?.status === "failed" ? row : undefined;
        });
        expect(job.attempts).toBe(WEBHOOK_MAX_ATTEMPTS);
        expect(received("quarantine.left")).toHaveLength(WEBHOOK_MAX_ATTEMPTS);
        // Exponential backoff from the worker's 100 ms base: retry n waits at least 50 ms × 2^(n-1).
        const times = receiver.requests
          .map((request, index) => ({ request, at: receivedAt[index]! }))
          .filter(({ request }) => request.headers["webhook-id"] === left.id)
          .map(({ at }) => at);
        const gaps = times.slice(1).map((at, index) => at - times[index]!);
        gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** index - 5));
      } finally {
        answer = () => 204;
        for (const id of victims) directory.assign(id, DIALPAD_USER_ROLE_ID);
      }
    },
  );

  test("the audit log lists webhook outcomes through the API", async () => {
    const audit = await api("listAudit", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
    });
    const activities = (audit.body?.items as { activity: string }[]).map((item) => item.activity);
    expect(activities).toEqual(
      expect.arrayContaining(["Webhook delivered", "Webhook failed", "Webhook test"]),
    );
  });
});

test("the signing secret appears in no API response, audit entry, job row or log line", async () => {
  expect(responses.length).toBeGreaterThan(10);
  for (const response of responses) expect(response.text).not.toContain(SECRET);
  const audit = await h.t.db.auditEntry.findMany({
    select: { activity: true, actorUpn: true, changes: true },
  });
  expect(JSON.stringify(audit)).not.toContain(SECRET);
  expect(JSON.stringify(audit)).toContain(SECRET.slice(-4));
  const jobs = await h.t.db.job.findMany({ where: { kind: "webhook" } });
  expect(jobs.length).toBeGreaterThan(3);
  expect(JSON.stringify(jobs)).not.toContain(SECRET);
  expect(h.logText()).not.toContain(SECRET);
  const row = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
  expect(row.webhookSecretCipher).not.toContain(SECRET);
  // The receiver got it only as an HMAC key: never in a header or a body.
  for (const request of receiver.requests) {
    expect(JSON.stringify(request.headers)).not.toContain(SECRET);
    expect(request.body).not.toContain(SECRET);
  }
});
