import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { explainForPreview, getMappings } from "@/lib/server/mappings";
import { API } from "@/lib/server/api-definitions";
import { graphClientFor } from "@/lib/server/peers";
import { graphSelectFor, toEntraUser } from "@/lib/sync/source";
import { sourceAttributesFor, attributeNamesIn, parseExpression } from "@/lib/mapping";

/**
 * Live preview for the expression editor: evaluates the expression as typed against a real directory
 * user (or a given source object) and returns the value, the evaluation trace, or the error position.
 */
export const POST = apiRoute(API.previewExpression, async ({ context, params, body }) => {
  let source: Record<string, unknown> = body.source ?? {};
  if (body.objectId) {
    const connection = await getConnection(context.db, params.connectionId);
    const { config } = await getMappings(context.db, params.connectionId);
    let referenced: string[] = [];
    try {
      referenced = attributeNamesIn(parseExpression(body.expression));
    } catch {
      // a syntax error is reported by explainExpression below
    }
    const user = await graphClientFor(connection, context.box).getUser(
      body.objectId,
      graphSelectFor([...sourceAttributesFor(config, "user"), ...referenced]),
    );
    source = toEntraUser(user, { isSoftDeleted: user.accountEnabled === false });
  }
  return { source, result: explainForPreview(body.expression, source) };
});
