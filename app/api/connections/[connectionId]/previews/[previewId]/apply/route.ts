import { API } from "@/lib/server/api-definitions";
import { apiRoute, json } from "@/lib/server/http";
import { applyPreview, readPreview } from "@/lib/server/preview";

/** Applies exactly the previewed operations on a worker; poll the preview for the result. */
export const POST = apiRoute(API.applyPreview, async ({ context, principal, params }) => {
  const preview = await applyPreview(context.db, params.connectionId, params.previewId, principal);
  return json(await readPreview(context.db, params.connectionId, preview.id, { offset: 0, limit: 100 }), 202);
});
