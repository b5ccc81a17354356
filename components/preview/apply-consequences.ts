/** The plan's counts per action, as the preview summary carries them. */
export type PlanCounts = Partial<
  Record<"create" | "update" | "disable" | "delete" | "fail", { users: number; groups: number }>
>;

const VERB = { create: "created", update: "updated", disable: "disabled", delete: "deleted" } as const;

/**
 * What applying the plan does, one sentence per action that has anything to do ("121 users will be
 * disabled."), so the confirmation says what will happen rather than only that something will.
 */
export function applyConsequences(counts: PlanCounts): string[] {
  const sentences: string[] = [];
  for (const action of ["create", "update", "disable", "delete"] as const) {
    const { users = 0, groups = 0 } = counts[action] ?? {};
    const parts = [
      users ? `${users.toLocaleString("en-US")} user${users === 1 ? "" : "s"}` : null,
      groups ? `${groups.toLocaleString("en-US")} group${groups === 1 ? "" : "s"}` : null,
    ].filter(Boolean);
    if (parts.length === 0) continue;
    sentences.push(`${parts.join(" and ")} will be ${VERB[action]} in Dialpad.`);
  }
  const failing = (counts.fail?.users ?? 0) + (counts.fail?.groups ?? 0);
  if (failing)
    sentences.push(`${failing} object${failing === 1 ? "" : "s"} would fail and will be retried later.`);
  if (sentences.length === 0)
    sentences.push("Nothing will change in Dialpad: every object is already up to date.");
  return sentences;
}
