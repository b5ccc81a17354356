import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { replayLogEntry } from "@/lib/server/replay";

export const POST = apiRoute(API.replayLogEntry, async ({ context, principal, params }) =>
  replayLogEntry(context.db, params.connectionId, params.logId, principal),
);
