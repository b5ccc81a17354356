import { getDb } from "@/lib/db/client";

/** Liveness for load balancers and monitors: database reachable, and how long since a worker checked in. */
export async function GET(): Promise<Response> {
  const started = Date.now();
  try {
    const db = getDb();
    const rows = await db.$queryRaw<{ newest: Date | null; live: bigint }[]>`
      SELECT max("lastSeenAt") AS newest, count(*) FILTER (WHERE "stoppedAt" IS NULL AND "lastSeenAt" > now() - interval '2 minutes') AS live
      FROM "Worker"`;
    const newest = rows[0]?.newest ?? null;
    const workerHeartbeatAgeSeconds = newest ? Math.round((Date.now() - newest.getTime()) / 1000) : null;
    const body = {
      status: "ok",
      database: { reachable: true, latencyMs: Date.now() - started },
      workers: { live: Number(rows[0]?.live ?? 0), newestHeartbeatAgeSeconds: workerHeartbeatAgeSeconds },
    };
    return Response.json(body, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return Response.json(
      {
        status: "error",
        database: {
          reachable: false,
          error: error instanceof Error ? error.message.split("\n")[0] : "unknown",
        },
      },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}
