import type { RequestLimiter } from "./limiter";
import { sleep } from "../net/retry";

export interface AdaptiveLimiterOptions {
  /** Ceiling; Dialpad publishes 20 requests/second per company. */
  ratePerSecond?: number;
  /** Floor for multiplicative decrease, so a throttling storm never stalls us completely. */
  minRatePerSecond?: number;
  /** Requests that may start back to back after an idle period. 1 = evenly paced. */
  burst?: number;
  /** Requests/second regained per successful request after a decrease. */
  additiveIncrease?: number;
  /**
   * Concurrent callers that were all in flight when the target started throttling come back with 429
   * together; that is one congestion signal, not N. Further 429s within this window don't halve again.
   */
  decreaseCooldownMs?: number;
  /** Upper bound on a Retry-After pause, so a bogus header cannot freeze the worker for hours. */
  maxPauseMs?: number;
  now?: () => number;
}

export interface AdaptiveLimiterStats {
  ratePerSecond: number;
  ceilingPerSecond: number;
  inFlight: number;
  waiting: number;
  throttledCount: number;
  /** Milliseconds until a Retry-After pause ends; 0 when not paused. */
  pausedForMs: number;
}

export interface AdaptiveLimiter extends RequestLimiter {
  release(): void;
  stats(): AdaptiveLimiterStats;
}

/**
 * In-process pacing for one target: evenly spaced start slots at the current rate (FIFO, so no caller
 * starves), AIMD on the rate, and a shared pause when the target sends Retry-After.
 */
export function createAdaptiveLimiter(options: AdaptiveLimiterOptions = {}): AdaptiveLimiter {
  const ceiling = options.ratePerSecond ?? 20;
  const floor = Math.min(options.minRatePerSecond ?? 1, ceiling);
  const burst = Math.max(1, options.burst ?? 1);
  const additiveIncrease = options.additiveIncrease ?? 0.05;
  const decreaseCooldownMs = options.decreaseCooldownMs ?? 1_000;
  const maxPauseMs = options.maxPauseMs ?? 300_000;
  const now = options.now ?? Date.now;

  let rate = ceiling;
  let nextSlotAt = 0;
  let pausedUntil = 0;
  let lastDecreaseAt = Number.NEGATIVE_INFINITY;
  let inFlight = 0;
  let waiting = 0;
  let throttledCount = 0;

  function reserveSlot(): number {
    const interval = 1000 / rate;
    const current = now();
    // Slots may lag "now" by up to burst-1 intervals, which is what lets an idle limiter admit a burst.
    const earliest = Math.max(nextSlotAt, current - (burst - 1) * interval, pausedUntil);
    nextSlotAt = earliest + interval;
    return Math.max(earliest, current);
  }

  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      for (;;) {
        signal?.throwIfAborted();
        const slot = reserveSlot();
        const delay = slot - now();
        if (delay > 0) {
          waiting += 1;
          try {
            await sleep(delay, signal);
          } finally {
            waiting -= 1;
          }
        }
        // A Retry-After pause may have begun while we slept; queue again behind it.
        if (pausedUntil > now()) continue;
        inFlight += 1;
        return;
      }
    },
    onThrottled(retryAfterMs?: number): void {
      throttledCount += 1;
      const current = now();
      if (current - lastDecreaseAt >= decreaseCooldownMs) {
        rate = Math.max(floor, rate / 2);
        lastDecreaseAt = current;
      }
      if (retryAfterMs !== undefined && retryAfterMs > 0) {
        pausedUntil = Math.max(pausedUntil, current + Math.min(retryAfterMs, maxPauseMs));
      }
    },
    onSuccess(): void {
      rate = Math.min(ceiling, rate + additiveIncrease);
    },
    release(): void {
      inFlight = Math.max(0, inFlight - 1);
    },
    stats(): AdaptiveLimiterStats {
      return {
        ratePerSecond: rate,
        ceilingPerSecond: ceiling,
        inFlight,
        waiting,
        throttledCount,
        pausedForMs: Math.max(0, pausedUntil - now()),
      };
    },
  };
}
