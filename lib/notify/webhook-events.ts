import crypto from "node:crypto";
import { z } from "zod";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { defineJobKind } from "../jobs/kind";
import { enqueueJob, type JobRow } from "../jobs/store";
import { WEBHOOK_EVENT_TYPES, webhookEventId, type WebhookEventType } from "./webhook";

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * One event for the connection's webhook. The URL and secret are read when it is sent, so neither is
 * copied into the job table; a failure is retried with backoff by the job store.
 */
export const webhookJob = defineJobKind(
  "webhook",
  z
    .object({
      connectionId: z.string().uuid(),
      event: z
        .object({
          id: z.string().uuid(),
          type: z.enum(WEBHOOK_EVENT_TYPES),
          occurredAt: z.iso.datetime({ offset: true }),
          data: z.record(z.string(), z.unknown()),
        })
        .strict(),
    })
    .strict(),
);

/** Attempts of one delivery: with the worker's 5 s base, retries come after about 5, 10, 20, 40, 80 s. */
export const WEBHOOK_MAX_ATTEMPTS = 6;

/**
 * Queues one webhook event when the connection has a webhook (URL and secret) subscribed to `type`;
 * returns null otherwise. Called inside the transaction that records what happened (a cycle's end, a
 * quarantine change), so the event exists exactly when the change committed. `subjectKey` names what
 * the event is about (a cycle id): the event id is derived from it, and a duplicate enqueue while the
 * first is still pending is dropped.
 */
export async function enqueueWebhookEvent(
  db: Db,
  connectionId: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  options: { subjectKey?: string; occurredAt?: Date } = {},
): Promise<JobRow | null> {
  const [connection] = await db.$queryRaw<{ subscribed: boolean }[]>`
    SELECT ("webhookUrl" IS NOT NULL AND "webhookSecretCipher" IS NOT NULL
            AND ${type} = ANY(COALESCE("webhookEvents", ARRAY[]::text[]))) AS subscribed
    FROM "Connection" WHERE id = ${connectionId}::uuid`;
  if (!connection?.subscribed) return null;
  const id = options.subjectKey ? webhookEventId(`${type}:${options.subjectKey}`) : crypto.randomUUID();
  // Dates and other non-JSON values become what a receiver will read, before validation.
  const plainData = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  const { job } = await enqueueJob(
    db,
    webhookJob,
    {
      connectionId,
      event: { id, type, occurredAt: (options.occurredAt ?? new Date()).toISOString(), data: plainData },
    },
    { connectionId, maxAttempts: WEBHOOK_MAX_ATTEMPTS, dedupeKey: `webhook:${id}` },
  );
  return job;
}

/**
 * "cycle.finished" for a cycle that just ended (called in finishCycle's transaction, after the Cycle
 * row got its final status): outcome, counts and error as the console shows them. Dry runs are silent.
 */
export async function enqueueCycleFinishedWebhook(db: Db, cycleId: string): Promise<JobRow | null> {
  const [cycle] = await db.$queryRaw<
    {
      connectionId: string;
      type: string;
      status: string;
      trigger: string;
      dryRun: boolean;
      startedAt: Date;
      endedAt: Date | null;
      counts: unknown;
      error: unknown;
    }[]
  >`SELECT "connectionId", type, status, trigger, "dryRun", "startedAt", "endedAt", counts, error
    FROM "Cycle" WHERE id = ${cycleId}::uuid`;
  if (!cycle || cycle.dryRun) return null;
  return enqueueWebhookEvent(
    db,
    cycle.connectionId,
    "cycle.finished",
    {
      cycleId,
      status: cycle.status,
      cycleType: cycle.type,
      trigger: cycle.trigger,
      startedAt: cycle.startedAt,
      endedAt: cycle.endedAt,
      counts: cycle.counts,
      error: cycle.error,
    },
    { subjectKey: cycleId, occurredAt: cycle.endedAt ?? new Date() },
  );
}
