import type { IncomingMessage, ServerResponse } from "node:http";
import { verifyWebhookSignature } from "../../lib/notify/webhook";

/** The signing secret the sandbox catcher verifies with; "Fill in the sandbox webhook catcher" types it. */
export const SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-signing-secret-2f9c1d";

export interface CapturedWebhook {
  seq: number;
  receivedAt: string;
  eventId: string | null;
  type: string | null;
  /** "valid", or why the signature was refused (missing-header, stale-timestamp, bad-signature). */
  signature: string;
  body: string;
}

export interface WebhookCatcher {
  events: CapturedWebhook[];
  /** Answers POSTs as a receiver would: 204 for a valid signature, 401 otherwise; everything is kept. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  waitFor(predicate: (event: CapturedWebhook) => boolean, timeoutMs?: number): Promise<CapturedWebhook>;
}

const MAX_BODY_BYTES = 256 * 1024;

/**
 * A webhook receiver for the sandbox: it checks each request's signature the way docs/operations.md
 * tells receivers to, keeps the last `maxEvents` requests for the hub page and /webhooks.json, and
 * answers like a strict receiver, so a wrong secret shows up as a failed delivery in the console.
 */
export function createWebhookCatcher(options: { secret?: string; maxEvents?: number } = {}): WebhookCatcher {
  const secret = options.secret ?? SANDBOX_WEBHOOK_SECRET;
  const maxEvents = options.maxEvents ?? 200;
  const events: CapturedWebhook[] = [];
  const waiters = new Set<{
    predicate: (event: CapturedWebhook) => boolean;
    resolve: (event: CapturedWebhook) => void;
  }>();
  let seq = 1;

  const record = (event: CapturedWebhook) => {
    events.push(event);
    if (events.length > maxEvents) events.shift();
    for (const waiter of waiters) {
      if (waiter.predicate(event)) {
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };

  return {
    events,
    handle(request, response) {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          response.writeHead(413).end();
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      request.on("end", () => {
        if (size > MAX_BODY_BYTES) return;
        const body = Buffer.concat(chunks).toString("utf8");
        const header = (name: string) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const verification = verifyWebhookSignature({
          secret,
          id: header("webhook-id"),
          timestamp: header("webhook-timestamp"),
          signature: header("webhook-signature"),
          body,
        });
        let type: string | null = null;
        try {
          const parsed = JSON.parse(body) as { type?: unknown };
          type = typeof parsed.type === "string" ? parsed.type : null;
        } catch {
          type = null;
        }
        record({
          seq: seq++,
          receivedAt: new Date().toISOString(),
          eventId: header("webhook-id") ?? null,
          type,
          signature: verification.ok ? "valid" : verification.reason,
          body,
        });
        response.writeHead(verification.ok ? 204 : 401).end();
      });
    },
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (event: CapturedWebhook) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching webhook within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
