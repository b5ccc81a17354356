import { describe, expect, test } from "vitest";
import { GraphError } from "../graph";
import { DEFAULT_POLL_PACING, nextPollDelayMs, pollBackoff, watchedFeeds } from "./change-probe";

const request = { method: "GET", url: "https://graph.example/v1.0/users/delta" };

describe("continuous mode's pacing", () => {
  test.each([
    [0, 2_000],
    [1, 3_000],
    [2, 4_500],
    [3, 6_750],
    [4, 10_125],
    [5, 15_000],
    [40, 15_000],
  ])("after %i idle polls in a row the next comes %i ms later", (idle, delay) => {
    expect(nextPollDelayMs(idle, DEFAULT_POLL_PACING)).toBe(delay);
  });

  test.each([
    [
      "429 with Retry-After 40 s waits 40 s",
      { status: 429, code: "TooManyRequests", retryAfterMs: 40_000 },
      0,
      40_000,
    ],
    ["429 without Retry-After backs off from 5 s", { status: 429, code: "TooManyRequests" }, 0, 5_000],
    ["a second 503 in a row waits longer", { status: 503, code: "ServiceUnavailable" }, 1, 10_000],
    ["the backoff stops growing at 5 min", { status: 504, code: "GatewayTimeout" }, 20, 300_000],
  ])("%s", (_name, init, errorsBefore, expected) => {
    const error = new GraphError({ ...init, message: "busy", retryable: true, request });
    expect(pollBackoff(error, errorsBefore)).toBe(expected);
  });

  test("an error a wait cannot fix is not backed off (the cycle diagnoses and quarantines it)", () => {
    const denied = new GraphError({
      status: 403,
      code: "Authorization_RequestDenied",
      message: "Insufficient privileges",
      retryable: false,
      request,
    });
    expect(pollBackoff(denied, 0)).toBeNull();
    expect(pollBackoff(new Error("socket hang up"), 0)).toBeNull();
  });
});

describe("the feeds a connection's polls read", () => {
  test.each([
    [
      "assigned users and groups",
      { scope: "AssignedOnly", servicePrincipalId: "sp", groupsEnabled: true },
      true,
      true,
    ],
    [
      "assigned users, groups not provisioned",
      { scope: "AssignedOnly", servicePrincipalId: "sp", groupsEnabled: false },
      true,
      true,
    ],
    [
      "all users, groups provisioned",
      { scope: "All", servicePrincipalId: "sp", groupsEnabled: true },
      false,
      true,
    ],
    ["all users, no groups", { scope: "All", servicePrincipalId: null, groupsEnabled: false }, false, false],
  ] as const)("%s", (_name, input, assignments, members) => {
    expect(watchedFeeds(input)).toEqual({ assignments, members });
  });
});
