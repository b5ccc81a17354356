import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { graphClientFor } from "@/lib/server/peers";

/** Directory search for the on-demand picker: by display name, user principal name or mail prefix. */
export const GET = apiRoute(API.searchDirectoryUsers, async ({ context, params, query }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const users = await graphClientFor(connection, context.box).searchUsers(query.search, {
    select: ["id", "displayName", "userPrincipalName", "mail"],
    top: 25,
  });
  return {
    users: users.map((user) => ({
      id: user.id,
      displayName: (user.displayName as string | null | undefined) ?? null,
      userPrincipalName: (user.userPrincipalName as string | null | undefined) ?? null,
      mail: (user.mail as string | null | undefined) ?? null,
    })),
  };
});
