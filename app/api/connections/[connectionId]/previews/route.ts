import { API } from "@/lib/server/api-definitions";
import { apiRoute, json } from "@/lib/server/http";
import { readPreview, requestPreview } from "@/lib/server/preview";

/** "Preview next cycle": computed on a worker; the answer is the preview while it computes. */
export const POST = apiRoute(API.requestPreview, async ({ context, principal, params }) => {
  const preview = await requestPreview(context.db, params.connectionId, principal);
  return json(await readPreview(context.db, params.connectionId, preview.id, { offset: 0, limit: 100 }), 202);
});
