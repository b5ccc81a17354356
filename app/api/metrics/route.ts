import crypto from "node:crypto";
import { env } from "@/lib/config/env";
import { getDb } from "@/lib/db/client";
import { METRICS_CONTENT_TYPE, collectMetrics } from "@/lib/metrics/collect";
import { apiRoute } from "@/lib/server/http";

export const dynamic = "force-dynamic";

async function metricsResponse(): Promise<Response> {
  return new Response(await collectMetrics(getDb()), {
    headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
  });
}

const readerRoute = apiRoute({ access: "read" }, () => metricsResponse());

/**
 * Prometheus scrape endpoint. Prometheus cannot sign in with Entra, so a static METRICS_TOKEN is
 * accepted as well; anything else goes through the usual bearer-token check (Reader role).
 */
export async function GET(
  request: Request,
  context: { params: Promise<Record<string, string>> },
): Promise<Response> {
  if (presentsMetricsToken(request.headers.get("authorization"))) return metricsResponse();
  return readerRoute(request, context);
}

function presentsMetricsToken(header: string | null): boolean {
  const expected = env().METRICS_TOKEN;
  if (!expected || !header?.startsWith("Bearer ")) return false;
  // Equal-length digests, so the comparison's time reveals nothing about the token.
  const digest = (value: string) => crypto.createHash("sha256").update(value).digest();
  return crypto.timingSafeEqual(digest(header.slice("Bearer ".length)), digest(expected));
}
