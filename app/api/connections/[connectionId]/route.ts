import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection, toConnectionDto, updateConnection } from "@/lib/server/connections";
import { tenantUrlPolicy } from "@/lib/server/test-connection";
import { recordAudit } from "@/lib/server/audit";

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
  const connection = await getConnection(context.db, params.connectionId);
  await context.db.$transaction(async (tx) => {
    await tx.connection.delete({ where: { id: connection.id } });
    await recordAudit(tx, {
      connectionId: null,
      activity: "Update provisioning setting or credentials",
      principal,
      changes: { connection: { before: connection.name, after: null } },
    });
  });
  return null;
});
