import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { getStatus } from "@/lib/server/control";

export const GET = apiRoute(
  { access: "read", params: z.object({ connectionId: z.uuid() }) },
  async ({ context, params }) => getStatus(context.db, params.connectionId),
);
