import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { stop } from "@/lib/server/control";

export const POST = apiRoute(
  { access: "write", params: z.object({ connectionId: z.uuid() }) },
  async ({ context, principal, params }) => stop(context.db, principal, params.connectionId),
);
