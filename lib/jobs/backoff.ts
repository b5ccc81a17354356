/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped, with "full jitter"
 * so that many jobs failing together (a target outage) do not retry in lockstep.
 */
export function retryDelayMs(
  attempt: number,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const baseMs = options.baseMs ?? 5_000;
  const maxMs = options.maxMs ?? 30 * 60_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
