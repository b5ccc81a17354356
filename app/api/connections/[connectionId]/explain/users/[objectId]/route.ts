import { API } from "@/lib/server/api-definitions";
import { explainUser } from "@/lib/server/explain";
import { apiRoute } from "@/lib/server/http";

/** "Why?" for one directory user; reads only, so a Reader may ask. */
export const GET = apiRoute(API.explainUser, async ({ context, params }) =>
  explainUser(context.db, context.box, { connectionId: params.connectionId, objectId: params.objectId }),
);
