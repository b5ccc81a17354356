import { describe, expect, it } from "vitest";
import { findingsAppeared } from "./reconcile-alert";

const counts = (users: Record<string, number>, driftedUsers = 0, groups: Record<string, number> = {}) => ({
  users,
  groups,
  driftedUsers,
});

describe("findingsAppeared", () => {
  it.each([
    {
      name: "the first report: every kind it found",
      previous: null,
      current: counts({ orphan: 3, drifted: 5 }, 2),
      appeared: [
        { objectType: "User", category: "orphan", before: 0, now: 3 },
        { objectType: "User", category: "drifted", before: 0, now: 2 },
      ],
    },
    {
      name: "the same findings again: nothing",
      previous: counts({ orphan: 3 }),
      current: counts({ orphan: 3 }),
      appeared: [],
    },
    {
      name: "fewer findings: nothing",
      previous: counts({ orphan: 3, missing: 1 }),
      current: counts({ orphan: 1 }),
      appeared: [],
    },
    {
      name: "drift counts users, not attributes",
      previous: counts({ drifted: 4 }, 2),
      current: counts({ drifted: 9 }, 2),
      appeared: [],
    },
    {
      name: "one more orphan and a new kind of group finding",
      previous: counts({ orphan: 3 }),
      current: counts({ orphan: 4 }, 0, { missing: 1 }),
      appeared: [
        { objectType: "User", category: "orphan", before: 3, now: 4 },
        { objectType: "Group", category: "missing", before: 0, now: 1 },
      ],
    },
    { name: "a clean report", previous: counts({ orphan: 2 }), current: counts({}), appeared: [] },
  ])("$name", ({ previous, current, appeared }) => {
    expect(findingsAppeared(previous, current)).toEqual(appeared);
  });
});
