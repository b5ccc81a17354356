import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { runTargetSelfTest } from "@/lib/server/target-self-test";

export const POST = apiRoute(API.targetSelfTest, async ({ context, principal, params, body }) =>
  runTargetSelfTest(context, principal, params.connectionId, body),
);
