/**
 * The webhook events a connection can subscribe to. Plain TypeScript with no imports: the settings
 * contract, the console and lib/notify/webhook.ts (which receivers' code may copy) all read this list.
 */
export const WEBHOOK_EVENT_TYPES = [
  "cycle.finished",
  "quarantine.entered",
  "quarantine.left",
  "deletions.held",
  "reconcile.finished",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
