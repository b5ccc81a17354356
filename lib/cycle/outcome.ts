import type { CycleStatus } from "./units";

/*
 * The one rule for how a cycle ends. A cycle that did its work but could not provision some objects
 * ended "succeededWithFailures" (Entra's taskExecution state EntryLevelErrors): it is not "succeeded",
 * because an admin who reads only the outcome must not believe every change landed.
 */

export type EndedCycleStatus = Exclude<CycleStatus, "running">;

/** Cycle statuses that count as a completed cycle (last successful cycle, overview's 100 %). */
export const COMPLETED_CYCLE_STATUSES: readonly EndedCycleStatus[] = ["succeeded", "succeededWithFailures"];

export function concludedStatus(input: {
  stopRequested: boolean;
  /** What the engine decided, if it did ("failed" for a planner error, say). */
  requested?: "succeeded" | "failed";
  hasError: boolean;
  /** The cycle's counts: failed objects and failed references make it "with failures". */
  counts: unknown;
}): EndedCycleStatus {
  if (input.stopRequested) return "stopped";
  const status = input.requested ?? (input.hasError ? "failed" : "succeeded");
  if (status === "failed") return "failed";
  return failuresIn(input.counts) > 0 ? "succeededWithFailures" : "succeeded";
}

export function failuresIn(counts: unknown): number {
  if (!counts || typeof counts !== "object") return 0;
  const { failed, referenceFailures } = counts as { failed?: unknown; referenceFailures?: unknown };
  return (Number(failed) || 0) + (Number(referenceFailures) || 0);
}
