import type { PrismaClient } from "../db/generated/client";
import type { ScimExchange } from "../scim";

/**
 * SCIM request counts by connection and answer. Workers record every exchange in memory and add the
 * sums to ScimRequestCount every few seconds (one upsert per flush), so /api/metrics, served by the
 * web process, can report what all workers sent without a write per request.
 */
interface Tally {
  connectionId: string;
  statusCode: string;
  count: number;
  durationMs: number;
}

/** Keyed by connection and status code, so its size is bounded however many requests are recorded. */
let pending = new Map<string, Tally>();

/** Counts one SCIM attempt (the engine passes lib/scim's onExchange records here). */
export function recordScimExchange(
  connectionId: string,
  exchange: Pick<ScimExchange, "status" | "durationMs">,
): void {
  const statusCode = exchange.status === undefined ? "none" : String(exchange.status);
  const key = `${connectionId}\u0000${statusCode}`;
  const tally = pending.get(key) ?? { connectionId, statusCode, count: 0, durationMs: 0 };
  tally.count += 1;
  tally.durationMs += Math.max(0, Math.round(exchange.durationMs));
  pending.set(key, tally);
}

/** Writes the pending counts; on failure they are kept for the next flush. Returns the rows written. */
export async function flushScimExchanges(db: PrismaClient): Promise<number> {
  if (pending.size === 0) return 0;
  const batch = [...pending.values()];
  pending = new Map();
  try {
    // Connections deleted since the request was made are skipped (the JOIN) rather than failing the batch.
    return await db.$executeRaw`
      INSERT INTO "ScimRequestCount" ("connectionId", "statusCode", count, "durationMsTotal", "updatedAt")
      SELECT t."connectionId", t."statusCode", t.count, t."durationMs", now()
      FROM unnest(${batch.map((tally) => tally.connectionId)}::uuid[], ${batch.map((tally) => tally.statusCode)}::text[],
                  ${batch.map((tally) => tally.count)}::bigint[], ${batch.map((tally) => tally.durationMs)}::bigint[])
           AS t("connectionId", "statusCode", count, "durationMs")
      JOIN "Connection" c ON c.id = t."connectionId"
      ON CONFLICT ("connectionId", "statusCode") DO UPDATE SET
        count = "ScimRequestCount".count + EXCLUDED.count,
        "durationMsTotal" = "ScimRequestCount"."durationMsTotal" + EXCLUDED."durationMsTotal",
        "updatedAt" = now()`;
  } catch (error) {
    for (const tally of batch) {
      const key = `${tally.connectionId}\u0000${tally.statusCode}`;
      const newer = pending.get(key);
      pending.set(key, {
        ...tally,
        count: tally.count + (newer?.count ?? 0),
        durationMs: tally.durationMs + (newer?.durationMs ?? 0),
      });
    }
    throw error;
  }
}

/** Flushes every `intervalMs` until stopped; stop() flushes once more. */
export function startScimExchangeFlusher(
  db: PrismaClient,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): { stop(): Promise<void> } {
  const onError = options.onError ?? (() => undefined);
  let flushing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    flushing = flushing.then(() => flushScimExchanges(db)).catch(onError);
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await flushing;
      await flushScimExchanges(db).catch(onError);
    },
  };
}
