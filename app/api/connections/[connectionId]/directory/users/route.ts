import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { searchDirectoryUsers } from "@/lib/server/directory";
import { graphClientFor } from "@/lib/server/peers";

/**
 * Directory search for the on-demand picker: by display name, user principal name or mail prefix, with
 * whether each user is assigned to the app.
 */
export const GET = apiRoute(API.searchDirectoryUsers, async ({ context, params, query }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const users = await searchDirectoryUsers(
    graphClientFor(connection, context.box),
    { scope: connection.scope, servicePrincipalId: connection.graphServicePrincipalId },
    query.search,
  );
  return { users };
});
