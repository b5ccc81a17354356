/**
 * The source-shrink guard: a read of Entra ID that returns far fewer assigned users than the last
 * accepted cycle is more likely a broken read (Graph permissions revoked, an assigned group emptied,
 * the wrong service principal) than a real mass departure. Such a cycle holds every disable and delete,
 * whatever the accidental-deletion threshold says, until an admin allows them or fixes the cause.
 * Entra has no such guard; its threshold counts deletions, which a small tenant may never exceed.
 */

export interface SourceShrinkInput {
  /** Users this cycle read as assigned (all users for scope All); null when this cycle could not tell. */
  current: number | null;
  /** The count of the last cycle the guard let through; null when there is none yet. */
  previous: number | null;
  /** Hold when the read shrank by more than this share, in percent (1–100). */
  maxShrinkPercent: number;
  /** Disables and deletes the cycle planned. */
  deletionsPlanned: number;
  /** What was counted, for the sentence: assigned users, or all users for scope All. */
  counted?: "assigned users" | "users";
}

export interface SourceShrinkDecision {
  /** Hold every disable and delete of the cycle and quarantine the connection. */
  hold: boolean;
  /** Why, for the log, the quarantine and its e-mail; null when not held. */
  reason: string | null;
}

/**
 * Whether the cycle's disables and deletes are held. A cycle that read a shrunken count but has nothing
 * to hold (the admin allowed the held deletions already) is let through, so its count becomes the one
 * later cycles compare with; a held cycle's count never does (see lib/server/provisioning-cycle.ts).
 */
export function decideSourceShrink(input: SourceShrinkInput): SourceShrinkDecision {
  const { current, previous } = input;
  const accept: SourceShrinkDecision = { hold: false, reason: null };
  if (current === null || previous === null || previous === 0 || current >= previous) return accept;
  if (input.deletionsPlanned === 0) return accept;
  const counted = input.counted ?? "assigned users";
  const before = `the last cycle had ${previous.toLocaleString("en-US")}`;
  if (current === 0) return { hold: true, reason: `Microsoft Entra ID returned 0 ${counted}; ${before}.` };
  // Integer arithmetic, so exactly 30 % fewer is not over a 30 % limit through rounding.
  if ((previous - current) * 100 <= input.maxShrinkPercent * previous) return accept;
  const percent = Math.floor(((previous - current) * 100) / previous);
  return {
    hold: true,
    reason: `Microsoft Entra ID returned ${current.toLocaleString("en-US")} ${counted}; ${before} (${percent} % fewer, more than the ${input.maxShrinkPercent} % allowed).`,
  };
}
