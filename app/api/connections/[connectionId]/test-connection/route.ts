import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { testConnection } from "@/lib/server/test-connection";

export const POST = apiRoute(
  {
    access: "write",
    params: z.object({ connectionId: z.uuid() }),
    body: z
      .object({ tenantUrl: z.string().trim().min(1).optional(), secretToken: z.string().min(1).optional() })
      .strict(),
  },
  async ({ context, principal, params, body }) =>
    testConnection(context, principal, params.connectionId, body),
);
