import { getDb } from "@/lib/db/client";
import { DATABASE_RETRY_AFTER_SECONDS } from "@/lib/db/unavailable";

export const dynamic = "force-dynamic";

/** A worker that has not heart-beaten for this long is presumed gone (it beats every lease/3 s). */
const WORKER_STALE_SECONDS = 120;

/**
 * Monitors and load balancers give up after a few seconds and learn nothing from a hung probe; a
 * database that has not answered in 1.5 s is reported unreachable (the query itself is abandoned by
 * the pool's own timeout).
 */
const DATABASE_PROBE_TIMEOUT_MS = 1_500;

/**
 * Health for load balancers and monitors. 503 when the database is unreachable. Missing workers make
 * the status "degraded" but keep 200 by default: this endpoint also decides whether the console stays
 * in a load balancer's rotation, and the console is still useful (and needed, to see what is wrong)
 * while workers are down. Monitors that should page on missing workers ask `?require=workers`, which
 * answers 503 when no worker heart-beat within 2 minutes.
 */
export async function GET(request: Request): Promise<Response> {
  const requireWorkers = new URL(request.url).searchParams.get("require") === "workers";
  const started = Date.now();
  try {
    const db = getDb();
    const rows = await withinProbeTimeout(
      db.$queryRaw<{ newestAgeSeconds: number | null; live: number }[]>`
      SELECT extract(epoch FROM now() - max("lastSeenAt") FILTER (WHERE "stoppedAt" IS NULL))::float8 AS "newestAgeSeconds",
        count(*) FILTER (WHERE "stoppedAt" IS NULL AND "lastSeenAt" > now() - make_interval(secs => ${WORKER_STALE_SECONDS}))::int AS live
      FROM "Worker"`,
    );
    const live = rows[0]?.live ?? 0;
    const newest = rows[0]?.newestAgeSeconds ?? null;
    const body = {
      status: live > 0 ? "ok" : "degraded",
      database: { reachable: true, latencyMs: Date.now() - started },
      workers: {
        live,
        newestHeartbeatAgeSeconds: newest === null ? null : Math.round(newest),
        staleAfterSeconds: WORKER_STALE_SECONDS,
      },
    };
    return Response.json(body, {
      status: requireWorkers && live === 0 ? 503 : 200,
      headers: { "cache-control": "no-store" },
    });
  } catch (error) {
    return Response.json(
      {
        status: "error",
        database: {
          reachable: false,
          error: error instanceof Error ? error.message.split("\n")[0] : "unknown",
        },
      },
      {
        status: 503,
        headers: { "cache-control": "no-store", "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
      },
    );
  }
}

function withinProbeTimeout<T>(query: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the database did not answer within ${DATABASE_PROBE_TIMEOUT_MS} ms`)),
      DATABASE_PROBE_TIMEOUT_MS,
    );
  });
  // The abandoned query may still fail later; that rejection is expected and must not go unhandled.
  const settled = Promise.resolve(query);
  settled.catch(() => undefined);
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
