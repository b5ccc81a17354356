import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { rotateSecretToken } from "@/lib/server/connections";

export const POST = apiRoute(API.rotateSecretToken, async ({ context, principal, params, body }) =>
  rotateSecretToken({ db: context.db, box: context.box, principal }, params.connectionId, body),
);
