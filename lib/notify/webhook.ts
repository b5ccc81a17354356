import crypto from "node:crypto";
import type { WebhookEventType } from "../contracts/webhook-event-types";

/**
 * Webhook events and their signatures, as receivers see them (docs/operations.md "Webhooks"). Plain
 * TypeScript on node:crypto only, so the sandbox's catcher and receivers' own code can verify with the
 * very function that signs.
 *
 * Wire format: POST, JSON body {id, type, occurredAt, connectionId, data}, headers
 *   Webhook-Id: <event id>            (the same on every retry of one event: receivers dedupe on it)
 *   Webhook-Timestamp: <unix seconds> (of this attempt)
 *   Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>
 */

// The list lives with the API contracts (plain TypeScript, no imports) so the console can read it.
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../contracts/webhook-event-types";

/** Sent only by the console's "Send test event", whatever events the connection subscribes to. */
export type AnyWebhookEventType = WebhookEventType | "webhook.test";

export interface WebhookEvent {
  id: string;
  type: AnyWebhookEventType;
  occurredAt: string;
  connectionId: string;
  data: Record<string, unknown>;
}

export const WEBHOOK_SIGNATURE_VERSION = "v1";
/** How far a receiver should accept a timestamp from its own clock, against replays. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/**
 * An event id derived from what the event is about (e.g. "cycle.finished" of cycle X), so the same
 * event enqueued twice (a cycle's finalizer re-run after a crash) carries one id and receivers that
 * dedupe on Webhook-Id see it once. Formatted as a UUID (version nibble 5, name-based).
 */
export function webhookEventId(key: string): string {
  const hash = crypto.createHash("sha256").update(`dialpad-provisioning-webhook:${key}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The exact bytes sent: the signature covers this string, so it is built once and never re-serialised. */
export function serializeWebhookEvent(event: WebhookEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    connectionId: event.connectionId,
    data: event.data,
  });
}

export function signWebhook(secret: string, id: string, timestamp: number | string, body: string): string {
  const mac = crypto.createHmac("sha256", secret).update(`${id}.${timestamp}.${body}`, "utf8").digest("hex");
  return `${WEBHOOK_SIGNATURE_VERSION}=${mac}`;
}

/** Headers of one delivery attempt; the timestamp is the attempt's, so a retry is signed afresh. */
export function webhookHeaders(
  secret: string,
  event: Pick<WebhookEvent, "id">,
  body: string,
  now: Date = new Date(),
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "content-type": "application/json",
    "user-agent": "dialpad-provisioning-webhooks/1",
    "webhook-id": event.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(secret, event.id, timestamp, body),
  };
}

export type WebhookVerification =
  { ok: true } | { ok: false; reason: "missing-header" | "stale-timestamp" | "bad-signature" };

/**
 * What a receiver does: recompute the HMAC over the raw body and compare in constant time, and refuse
 * timestamps too far from its clock (a captured request cannot be replayed later). The header may list
 * several space-separated signatures; any v1 match is accepted.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  now?: Date;
  toleranceSeconds?: number;
}): WebhookVerification {
  if (!input.id || !input.timestamp || !input.signature) return { ok: false, reason: "missing-header" };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: "stale-timestamp" };
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const tolerance = input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - Number(input.timestamp)) > tolerance)
    return { ok: false, reason: "stale-timestamp" };
  const expected = Buffer.from(signWebhook(input.secret, input.id, input.timestamp, input.body));
  for (const candidate of input.signature.split(" ")) {
    const given = Buffer.from(candidate.trim());
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: "bad-signature" };
}
