import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { discardPreview, readPreview } from "@/lib/server/preview";

export const POST = apiRoute(API.discardPreview, async ({ context, principal, params }) => {
  const preview = await discardPreview(context.db, params.connectionId, params.previewId, principal);
  return readPreview(context.db, params.connectionId, preview.id, { offset: 0, limit: 100 });
});
