import { describe, expect, test } from "vitest";
import { backoffDelay, parseRetryAfter } from "./retry";

describe("Retry-After parsing", () => {
  const now = Date.parse("2026-11-28T10:00:00Z");
  test.each([
    ["delta seconds", "120", 120_000],
    ["zero", "0", 0],
    ["padded", " 7 ", 7_000],
    ["HTTP date in the future", "Sat, 28 Nov 2026 10:00:30 GMT", 30_000],
    ["HTTP date in the past", "Sat, 28 Nov 2026 09:00:00 GMT", 0],
    ["garbage", "soon", undefined],
    ["negative", "-5", undefined],
    ["empty", "", undefined],
    ["missing", null, undefined],
  ])("%s", (_name, header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe("exponential backoff with jitter", () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000, maxTotalWaitMs: 10_000 };
  test("doubles per retry, stays within [step/2, step], and is capped", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 0))).toEqual([50, 100, 200]);
  });
});
