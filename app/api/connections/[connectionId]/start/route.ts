import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { start } from "@/lib/server/control";

export const POST = apiRoute(
  { access: "write", params: z.object({ connectionId: z.uuid() }) },
  async ({ context, principal, params }) => start(context.db, principal, params.connectionId),
);
