import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { listDirectGroupUsers } from "@/lib/server/directory";
import { graphClientFor } from "@/lib/server/peers";

/** The group's direct user members, for picking the (at most five) to provision with the group. */
export const GET = apiRoute(API.listDirectoryGroupMembers, async ({ context, params, query }) => {
  const connection = await getConnection(context.db, params.connectionId);
  return listDirectGroupUsers(graphClientFor(connection, context.box), params.groupId, query.search);
});
