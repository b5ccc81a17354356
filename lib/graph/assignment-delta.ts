import type { GraphAssignmentChange, GraphPage } from "./schemas";

/** directoryObjects/delta can track users too; asking for assignments only keeps users out of the pages. */
export const ASSIGNMENTS_ONLY_FILTER = "isof('microsoft.graph.appRoleAssignment')";

/**
 * Keeps a page's assignment items. The round asked for assignments only, so an item without
 * @odata.type is taken for one; another type (from a deltaLink whose round tracked users too) is not
 * ours to report.
 */
export async function* onlyAssignments(
  pages: AsyncIterable<GraphPage<GraphAssignmentChange>>,
): AsyncGenerator<GraphPage<GraphAssignmentChange>> {
  for await (const page of pages) yield { ...page, value: page.value.filter(isAssignment) };
}

function isAssignment(item: GraphAssignmentChange): boolean {
  const type = item["@odata.type"];
  return type === undefined || type.toLowerCase() === "#microsoft.graph.approleassignment";
}
