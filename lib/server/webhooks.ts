import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import type { SecretBox } from "../crypto/secrets";
import { PermanentJobError, type JobPayloadOf } from "../jobs/kind";
import type { webhookJob } from "../notify/webhook-events";
import { serializeWebhookEvent, webhookHeaders, type WebhookEvent } from "../notify/webhook";
import { recordAudit } from "./audit";
import { getConnection, openWebhookSecret } from "./connections";
import { validationFailed } from "./errors";
import { outboundPolicy } from "./outbound";
import type { HostResolver } from "./tenant-url";
import { resolveWebhookTarget, type WebhookUrlPolicy } from "./webhook-url";

/**
 * Sending webhook events: the worker's "webhook" job (retried with backoff by the job store, outcome in
 * the audit log) and the console's synchronous test event. The signing and the wire format are
 * lib/notify/webhook.ts.
 */

const SYSTEM = { objectId: "00000000-0000-0000-0000-000000000000", upn: "System" };
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliveryResult {
  ok: boolean;
  /** HTTP status of the receiver's answer; null when none arrived. */
  status: number | null;
  durationMs: number;
  /** Why it failed, in words; a URL the policy refuses is `permanent` (retrying cannot help). */
  error?: string;
  permanent?: boolean;
}

export function webhookUrlPolicy(): WebhookUrlPolicy {
  return outboundPolicy();
}

/**
 * One signed POST. The connection goes to the addresses checked against the policy (pinned, no second
 * lookup); a redirect is reported, never followed, since following it would send the event, and any
 * later one, to an address nobody checked.
 */
export async function deliverWebhook(input: {
  url: string;
  secret: string;
  event: WebhookEvent;
  policy: WebhookUrlPolicy;
  timeoutMs?: number;
  resolve?: HostResolver;
}): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const target = await resolveWebhookTarget(input.url, input.policy, input.resolve);
  if (!target.ok) {
    return {
      ok: false,
      status: null,
      durationMs: elapsed(),
      error: `The webhook URL ${target.problem}.`,
      permanent: !/could not be resolved/.test(target.problem),
    };
  }
  const body = serializeWebhookEvent(input.event);
  const headers = {
    ...webhookHeaders(input.secret, input.event, body),
    "content-length": String(Buffer.byteLength(body)),
  };
  const addresses = target.addresses;
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
  const timeoutMs = input.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const send = target.url.protocol === "https:" ? https.request : http.request;
  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<DeliveryResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const request = send(target.url, { method: "POST", headers, lookup, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      // The answer's body is not kept (it is the receiver's, and may echo anything): drain and close.
      response.resume();
      response.on("error", () => undefined);
      if (status >= 200 && status < 300) finish({ ok: true, status });
      else if (status >= 300 && status < 400)
        finish({
          ok: false,
          status,
          error: `The receiver answered HTTP ${status}, a redirect; webhooks do not follow redirects, so enter the final URL.`,
        });
      else finish({ ok: false, status, error: `The receiver answered HTTP ${status}.` });
      request.destroy();
    });
    let connected = false;
    request.on("socket", (socket) => socket.once("connect", () => (connected = true)));
    const timer = setTimeout(() => {
      const error = connected
        ? `The receiver did not answer within ${timeoutMs / 1000} s.`
        : `Could not connect to the receiver at ${receiverOf(input.url)}.`;
      finish({ ok: false, status: null, error });
      request.destroy();
    }, timeoutMs);
    request.on("error", (error: NodeJS.ErrnoException) =>
      finish({ ok: false, status: null, error: describeNetworkError(error, receiverOf(input.url)) }),
    );
    request.end(body);
  });
}

/**
 * Whether the port is closed, filtered or resets is not said: the admin who typed the URL could otherwise
 * map which ports are open on an address the policy accepts (one "could not connect" for all of them).
 */
function describeNetworkError(error: NodeJS.ErrnoException, receiver: string): string {
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN")
    return "The receiver's host name could not be resolved.";
  if (error.code && /CERT|SSL|TLS|SELF_SIGNED/.test(error.code))
    return `The receiver's TLS certificate was not accepted (${error.code}).`;
  return `Could not connect to the receiver at ${receiver}.`;
}

/**
 * The worker's "webhook" job: one attempt per run. A failed attempt throws, so the job store queues the
 * next one with exponential backoff; the last one (or a URL the policy refuses) is recorded in the audit
 * log as "Webhook failed", a success as "Webhook delivered". The URL and secret are read now, so an admin
 * who fixed or removed the webhook since the event was queued is obeyed.
 */
export async function runWebhookJob(
  db: PrismaClient,
  box: SecretBox,
  payload: JobPayloadOf<typeof webhookJob>,
  attempt: { number: number; of: number },
  options: { policy?: WebhookUrlPolicy; timeoutMs?: number } = {},
): Promise<{ delivered: boolean; status?: number | null; durationMs?: number; skipped?: string }> {
  const connection = await db.connection.findUnique({ where: { id: payload.connectionId } });
  if (!connection) return { delivered: false, skipped: "the connection was deleted" };
  const secret = openWebhookSecret(connection, box);
  if (!connection.webhookUrl || !secret) return { delivered: false, skipped: "the webhook was removed" };
  if (!connection.webhookEvents.includes(payload.event.type))
    return { delivered: false, skipped: `the webhook no longer subscribes to ${payload.event.type}` };
  const event: WebhookEvent = { ...payload.event, connectionId: connection.id };
  const result = await deliverWebhook({
    url: connection.webhookUrl,
    secret,
    event,
    policy: options.policy ?? webhookUrlPolicy(),
    timeoutMs: options.timeoutMs,
  });
  const final = result.ok || result.permanent || attempt.number >= attempt.of;
  if (final) {
    await recordAudit(db, {
      connectionId: connection.id,
      activity: result.ok ? "Webhook delivered" : "Webhook failed",
      principal: SYSTEM,
      result: result.ok ? "success" : "failure",
      changes: {
        event: { before: null, after: event.type },
        eventId: { before: null, after: event.id },
        receiver: { before: null, after: receiverOf(connection.webhookUrl) },
        statusCode: { before: null, after: result.status },
        attempt: { before: null, after: `${attempt.number} of ${attempt.of}` },
        durationMs: { before: null, after: result.durationMs },
        ...(result.error ? { error: { before: null, after: result.error } } : {}),
      },
    });
  }
  if (!result.ok) {
    const message = result.error ?? "The delivery failed.";
    throw result.permanent ? new PermanentJobError(message) : new Error(message);
  }
  return { delivered: true, status: result.status, durationMs: result.durationMs };
}

/** Scheme, host and port only: a path or query may carry the receiver's own token. */
function receiverOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

export interface WebhookTestResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  eventId: string;
  message: string;
}

/**
 * "Send test event": a "webhook.test" event sent now, not queued, to the URL and secret typed in the
 * form (else the saved ones), with the receiver's answer in words. Audited like Test Connection.
 */
export async function sendTestWebhook(
  context: { db: PrismaClient; box: SecretBox; policy?: WebhookUrlPolicy },
  principal: Principal,
  connectionId: string,
  input: { webhookUrl?: string; webhookSecret?: string },
): Promise<WebhookTestResult> {
  const connection = await getConnection(context.db, connectionId);
  const url = input.webhookUrl ?? connection.webhookUrl;
  const secret = input.webhookSecret ?? openWebhookSecret(connection, context.box);
  if (!url) throw validationFailed([{ field: "webhookUrl", message: "Enter the webhook URL first." }]);
  if (!secret)
    throw validationFailed([{ field: "webhookSecret", message: "Enter the signing secret first." }]);
  const policy = context.policy ?? webhookUrlPolicy();
  const target = await resolveWebhookTarget(url, policy);
  if (!target.ok && !/could not be resolved/.test(target.problem))
    throw validationFailed([{ field: "webhookUrl", message: `The webhook URL ${target.problem}.` }]);
  const event: WebhookEvent = {
    id: crypto.randomUUID(),
    type: "webhook.test",
    occurredAt: new Date().toISOString(),
    connectionId: connection.id,
    data: {
      message: "Test event from the Dialpad provisioning console.",
      connectionName: connection.name,
      initiatedBy: principal.upn,
    },
  };
  const result = await deliverWebhook({ url, secret, event, policy });
  const message = result.ok
    ? `The receiver answered HTTP ${result.status} in ${result.durationMs} ms.`
    : (result.error ?? "The delivery failed.");
  await recordAudit(context.db, {
    connectionId: connection.id,
    activity: "Webhook test",
    principal,
    result: result.ok ? "success" : "failure",
    changes: {
      receiver: { before: null, after: receiverOf(url) },
      statusCode: { before: null, after: result.status },
      outcome: { before: null, after: message },
    },
  });
  return { ok: result.ok, status: result.status, durationMs: result.durationMs, eventId: event.id, message };
}
