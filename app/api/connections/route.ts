import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { createConnection, listConnections } from "@/lib/server/connections";
import { tenantUrlPolicy } from "@/lib/server/test-connection";

export const GET = apiRoute(API.listConnections, async ({ context }) => ({
  connections: await listConnections(context.db),
}));

export const POST = apiRoute(API.createConnection, async ({ context, principal, body }) => {
  const created = await createConnection(
    { db: context.db, box: context.box, principal, policy: tenantUrlPolicy(context) },
    body,
  );
  return new Response(JSON.stringify(created), {
    status: 201,
    headers: { "content-type": "application/json", location: `/api/connections/${created.id}` },
  });
});
