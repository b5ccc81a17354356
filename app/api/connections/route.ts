import { apiRoute } from "@/lib/server/http";
import { createConnection, listConnections, ZCreateConnection } from "@/lib/server/connections";
import { tenantUrlPolicy } from "@/lib/server/test-connection";

export const GET = apiRoute({ access: "read" }, async ({ context }) => ({
  connections: await listConnections(context.db),
}));

export const POST = apiRoute(
  { access: "write", body: ZCreateConnection },
  async ({ context, principal, body }) => {
    const created = await createConnection(
      { db: context.db, box: context.box, principal, policy: tenantUrlPolicy(context) },
      body,
    );
    return new Response(JSON.stringify(created), {
      status: 201,
      headers: { "content-type": "application/json", location: `/api/connections/${created.id}` },
    });
  },
);
