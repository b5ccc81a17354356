import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { sendTestWebhook } from "@/lib/server/webhooks";

export const POST = apiRoute(API.webhookTest, async ({ context, principal, params, body }) =>
  sendTestWebhook(context, principal, params.connectionId, body),
);
