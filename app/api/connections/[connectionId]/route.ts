import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import {
  getConnection,
  toConnectionDto,
  updateConnection,
  ZConnectionSettings,
} from "@/lib/server/connections";
import { tenantUrlPolicy } from "@/lib/server/test-connection";
import { recordAudit } from "@/lib/server/audit";

const ZParams = z.object({ connectionId: z.uuid("is not a connection id") });

export const GET = apiRoute({ access: "read", params: ZParams }, async ({ context, params }) =>
  toConnectionDto(await getConnection(context.db, params.connectionId)),
);

export const PATCH = apiRoute(
  {
    access: "write",
    params: ZParams,
    body: z.object({ settings: ZConnectionSettings, expectedVersion: z.number().int().optional() }).strict(),
  },
  async ({ context, principal, params, body }) =>
    updateConnection(
      { db: context.db, box: context.box, principal, policy: tenantUrlPolicy(context) },
      params.connectionId,
      body.settings,
      body.expectedVersion,
    ),
);

export const DELETE = apiRoute(
  { access: "write", params: ZParams },
  async ({ context, principal, params }) => {
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
  },
);
