import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { readPreview } from "@/lib/server/preview";

export const GET = apiRoute(API.getPreview, async ({ context, params, query }) =>
  readPreview(context.db, params.connectionId, params.previewId, query),
);
