import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { deleteConnection, getConnection, toConnectionDto, updateConnection } from "@/lib/server/connections";
import { tenantUrlPolicy } from "@/lib/server/test-connection";

export const GET = apiRoute(API.getConnection, async ({ context, params }) =>
  toConnectionDto(await getConnection(context.db, params.connectionId)),
);

export const PATCH = apiRoute(API.updateConnection, async ({ context, principal, params, body }) =>
  updateConnection(
    { db: context.db, box: context.box, principal, policy: tenantUrlPolicy(context) },
    params.connectionId,
    body.settings,
    body.expectedVersion,
  ),
);

export const DELETE = apiRoute(API.deleteConnection, async ({ context, principal, params }) => {
  await deleteConnection(context.db, params.connectionId, principal);
  return null;
});
