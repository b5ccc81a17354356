import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { graphClientFor } from "@/lib/server/peers";

/** Directory search for the on-demand group picker: by display name or mail prefix. */
export const GET = apiRoute(API.searchDirectoryGroups, async ({ context, params, query }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const groups = await graphClientFor(connection, context.box).searchGroups(query.search, {
    select: ["id", "displayName", "mail", "description"],
    top: 25,
  });
  return {
    groups: groups.map((group) => ({
      id: group.id,
      displayName: (group.displayName as string | null | undefined) ?? null,
      mail: (group.mail as string | null | undefined) ?? null,
      description: (group.description as string | null | undefined) ?? null,
    })),
  };
});
