import { describe, expect, test } from "vitest";
import {
  serializeWebhookEvent,
  signWebhook,
  verifyWebhookSignature,
  webhookEventId,
  webhookHeaders,
} from "./webhook";

const SECRET = "whsec_test_secret_0123456789";

describe("webhook signatures", () => {
  test("known answer: HMAC-SHA256 over '<id>.<timestamp>.<body>', hex, prefixed v1=", () => {
    // Computed independently: printf '%s' 'evt_1.1700000000.{"hello":"world"}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123456789'
    expect(signWebhook(SECRET, "evt_1", 1700000000, '{"hello":"world"}')).toBe(
      "v1=0f7f3eeb4c55ed93b621692425325aa4398334c435bd19b68f42cc4f5149d18e",
    );
  });

  test("the headers of an attempt verify with the secret, and with nothing else", () => {
    const now = new Date("2026-11-28T12:00:00Z");
    const body = serializeWebhookEvent({
      id: "0b0e5c1e-0000-5000-8000-000000000001",
      type: "cycle.finished",
      occurredAt: now.toISOString(),
      connectionId: "c0c0c0c0-0000-4000-8000-000000000000",
      data: { status: "succeeded", counts: { created: 3 } },
    });
    const headers = webhookHeaders(SECRET, { id: "0b0e5c1e-0000-5000-8000-000000000001" }, body, now);
    expect(headers["webhook-timestamp"]).toBe(String(Date.parse("2026-11-28T12:00:00Z") / 1000));
    const verify = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        secret: SECRET,
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body,
        now,
        ...overrides,
      });
    expect(verify({})).toEqual({ ok: true });
    expect(verify({ secret: `${SECRET}x` })).toEqual({ ok: false, reason: "bad-signature" });
    expect(verify({ body: body.replace("3", "4") })).toEqual({ ok: false, reason: "bad-signature" });
    expect(verify({ id: "another-id" })).toEqual({ ok: false, reason: "bad-signature" });
    expect(verify({ signature: undefined })).toEqual({ ok: false, reason: "missing-header" });
    // A replay ten minutes later is refused even though the signature is genuine.
    expect(verify({ now: new Date(now.getTime() + 10 * 60_000) })).toEqual({
      ok: false,
      reason: "stale-timestamp",
    });
    // During a secret rotation a sender may list two signatures; one match is enough.
    const other = signWebhook(
      "old-secret-0000000000",
      headers["webhook-id"]!,
      headers["webhook-timestamp"]!,
      body,
    );
    expect(verify({ signature: `${other} ${headers["webhook-signature"]}` })).toEqual({ ok: true });
  });

  test("event ids are stable per subject and look like UUIDs", () => {
    const id = webhookEventId("cycle.finished:cycle-1");
    expect(id).toBe(webhookEventId("cycle.finished:cycle-1"));
    expect(id).not.toBe(webhookEventId("cycle.finished:cycle-2"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
