/**
 * Admission control for requests to one target. Every attempt (including retries) acquires first.
 * The in-process implementation is adaptive-limiter.ts; a cross-worker budget (PostgreSQL) will
 * implement the same interface.
 */
export interface RequestLimiter {
  /** Resolves when the caller may send one request; rejects with the signal's reason if aborted. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** The target answered 429 (or 503); `retryAfterMs` from its Retry-After header if any. */
  onThrottled(retryAfterMs?: number): void;
  /** The target answered without complaining about load. */
  onSuccess(): void;
  /** Called once after every acquired attempt ends, whatever the outcome (for in-flight accounting). */
  release?(): void;
}

export const unlimited: RequestLimiter = {
  acquire: () => Promise.resolve(),
  onThrottled: () => {},
  onSuccess: () => {},
};
