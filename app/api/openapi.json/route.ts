import { buildOpenApiDocument } from "@/lib/server/openapi";

/** Public: the API's shape is not a secret, and tools fetch it before they have a token. */
export function GET(): Response {
  return Response.json(buildOpenApiDocument(process.env.PUBLIC_URL), {
    headers: { "cache-control": "no-store" },
  });
}
