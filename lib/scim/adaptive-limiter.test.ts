import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { createAdaptiveLimiter } from "./adaptive-limiter";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts n acquires at once and returns the fake-clock offsets at which each was admitted. */
async function admissionTimes(
  limiter: ReturnType<typeof createAdaptiveLimiter>,
  n: number,
  runForMs: number,
): Promise<number[]> {
  const start = Date.now();
  const times: number[] = [];
  for (let i = 0; i < n; i += 1) void limiter.acquire().then(() => times.push(Date.now() - start));
  await vi.advanceTimersByTimeAsync(runForMs);
  return times;
}

describe("adaptive limiter", () => {
  test("spaces requests evenly at the configured rate", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 10 });
    expect(await admissionTimes(limiter, 5, 1_000)).toEqual([0, 100, 200, 300, 400]);
  });

  test("defaults to Dialpad's 20 requests/second", async () => {
    const limiter = createAdaptiveLimiter();
    expect(limiter.stats().ceilingPerSecond).toBe(20);
    expect(await admissionTimes(limiter, 21, 2_000)).toHaveLength(21);
    const times = await admissionTimes(createAdaptiveLimiter(), 21, 999);
    expect(times).toHaveLength(20);
  });

  test("an idle limiter admits a configured burst at once", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 10, burst: 3 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await admissionTimes(limiter, 4, 1_000)).toEqual([0, 0, 0, 100]);
  });

  test("halves the rate on throttling, once per burst of 429s, never below the floor", () => {
    const limiter = createAdaptiveLimiter({
      ratePerSecond: 20,
      minRatePerSecond: 4,
      decreaseCooldownMs: 1_000,
    });
    limiter.onThrottled();
    limiter.onThrottled(); // same congestion event from a concurrent request
    expect(limiter.stats().ratePerSecond).toBe(10);
    vi.advanceTimersByTime(1_000);
    limiter.onThrottled();
    expect(limiter.stats().ratePerSecond).toBe(5);
    vi.advanceTimersByTime(1_000);
    limiter.onThrottled();
    expect(limiter.stats().ratePerSecond).toBe(4);
    expect(limiter.stats().throttledCount).toBe(4);
  });

  test("climbs back additively to the ceiling and no further", () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 20, additiveIncrease: 0.5 });
    limiter.onThrottled();
    expect(limiter.stats().ratePerSecond).toBe(10);
    limiter.onSuccess();
    expect(limiter.stats().ratePerSecond).toBe(10.5);
    for (let i = 0; i < 100; i += 1) limiter.onSuccess();
    expect(limiter.stats().ratePerSecond).toBe(20);
  });

  test("the slower rate is what paces the next requests", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 10 });
    limiter.onThrottled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await admissionTimes(limiter, 3, 1_000)).toEqual([0, 200, 400]);
  });

  test("Retry-After pauses every caller, including ones already queued", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 10 });
    const start = Date.now();
    const admitted: number[] = [];
    for (let i = 0; i < 3; i += 1) void limiter.acquire().then(() => admitted.push(Date.now() - start));
    await vi.advanceTimersByTimeAsync(0);
    expect(admitted).toEqual([0]);
    limiter.onThrottled(2_000);
    expect(limiter.stats().pausedForMs).toBe(2_000);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(admitted).toEqual([0]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(admitted.length).toBe(3);
    expect(admitted[1]).toBeGreaterThanOrEqual(2_000);
    expect(admitted[2]! - admitted[1]!).toBeGreaterThanOrEqual(200);
    expect(limiter.stats().pausedForMs).toBe(0);
  });

  test("a pause from an absurd Retry-After is capped", () => {
    const limiter = createAdaptiveLimiter({ maxPauseMs: 60_000 });
    limiter.onThrottled(24 * 3_600_000);
    expect(limiter.stats().pausedForMs).toBe(60_000);
  });

  test("stats count requests in flight and waiting", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 10 });
    void limiter.acquire();
    void limiter.acquire();
    await vi.advanceTimersByTimeAsync(0);
    expect(limiter.stats()).toMatchObject({ inFlight: 1, waiting: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(limiter.stats()).toMatchObject({ inFlight: 2, waiting: 0 });
    limiter.release();
    limiter.release();
    expect(limiter.stats().inFlight).toBe(0);
  });

  test("an aborted wait rejects with the signal's reason", async () => {
    const limiter = createAdaptiveLimiter({ ratePerSecond: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const pending = limiter.acquire(controller.signal);
    controller.abort(new Error("shutting down"));
    await expect(pending).rejects.toThrow("shutting down");
    expect(limiter.stats().waiting).toBe(0);
  });
});
