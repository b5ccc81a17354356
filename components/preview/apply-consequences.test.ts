import { describe, expect, it } from "vitest";
import { applyConsequences } from "./apply-consequences";

describe("applyConsequences", () => {
  it("says, per action, how many users and groups change", () => {
    expect(
      applyConsequences({
        create: { users: 1, groups: 0 },
        update: { users: 3, groups: 2 },
        disable: { users: 121, groups: 0 },
        delete: { users: 0, groups: 0 },
        fail: { users: 0, groups: 0 },
      }),
    ).toEqual([
      "1 user will be created in Dialpad.",
      "3 users and 2 groups will be updated in Dialpad.",
      "121 users will be disabled in Dialpad.",
    ]);
  });

  it("says so when nothing changes", () => {
    expect(applyConsequences({ create: { users: 0, groups: 0 } })).toEqual([
      "Nothing will change in Dialpad: every object is already up to date.",
    ]);
  });
});
