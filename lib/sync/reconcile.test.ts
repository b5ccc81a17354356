import { describe, expect, test } from "vitest";
import { defaultDialpadMapping } from "../mapping";
import { membershipPatches } from "./execute";
import { mappingEngineFor } from "./mapping-adapter";
import { assessLinkedGroup, compareGroupMembers } from "./reconcile";

describe("compareGroupMembers: a group's members as a cycle wants them against Dialpad's", () => {
  const desired = new Map([
    ["d-ann", "e-ann"],
    ["d-bob", "e-bob"],
  ]);
  test.each([
    { name: "the same members: no drift", dialpad: ["d-ann", "d-bob"], managed: [], drift: [] },
    {
      name: "a member removed in Dialpad is missing",
      dialpad: ["d-ann"],
      managed: [],
      drift: [{ targetId: "d-bob", sourceId: "e-bob", missing: true }],
    },
    {
      name: "a managed user added in Dialpad is extra, with its Entra user",
      dialpad: ["d-ann", "d-bob", "d-cat"],
      managed: [["d-cat", "e-cat"]],
      drift: [{ targetId: "d-cat", sourceId: "e-cat", missing: false }],
    },
    {
      name: "a user nobody manages is extra, without an Entra user; missing ones come first",
      dialpad: ["d-zed", "d-ann"],
      managed: [],
      drift: [
        { targetId: "d-bob", sourceId: "e-bob", missing: true },
        { targetId: "d-zed", sourceId: null, missing: false },
      ],
    },
  ])("$name", ({ dialpad, managed, drift }) => {
    expect(
      compareGroupMembers({
        desired,
        dialpad: new Set(dialpad),
        managed: new Map(managed as [string, string][]),
      }),
    ).toEqual(drift);
  });
});

describe("membershipPatches: what a cycle and a re-apply send for one group", () => {
  const members = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, index) => ({
      userTargetId: `${prefix}${index}`,
      userSourceId: `s${index}`,
    }));

  test("adds before removals, at most 100 members per PATCH", () => {
    const patches = membershipPatches(members(150, "a"), members(2, "r"));
    expect(patches.map((patch) => [patch.kind, patch.members.length])).toEqual([
      ["add", 100],
      ["add", 50],
      ["remove", 2],
    ]);
    expect(patches[2]!.operations).toEqual([
      {
        op: "Remove",
        path: "members",
        value: [
          { $ref: null, value: "r0" },
          { $ref: null, value: "r1" },
        ],
      },
    ]);
  });

  test("nothing to change sends nothing", () => {
    expect(membershipPatches([], [])).toEqual([]);
  });
});

describe("assessLinkedGroup: a linked group's attributes against its Dialpad group", () => {
  const mapping = mappingEngineFor(defaultDialpadMapping(), "Group", { withoutReferences: true });
  const group = { id: "g-1", displayName: "Sales" };
  const current = (resource: Record<string, unknown>) => ({ id: "d-1", ...resource });

  test.each([
    {
      name: "as the mappings want it: no drift",
      entitled: true,
      dialpad: { displayName: "Sales", externalId: "g-1" },
      expected: { drift: [] },
    },
    {
      name: "externalId edited in Dialpad drifts",
      entitled: true,
      dialpad: { displayName: "Sales", externalId: "edited" },
      expected: { drift: [{ attribute: "externalId", dialpadValue: "edited", desiredValue: "g-1" }] },
    },
    {
      name: "another name in Dialpad is not drift: a cycle never renames a Dialpad group",
      entitled: true,
      dialpad: { displayName: "Sales (old)", externalId: "g-1" },
      expected: { drift: [] },
    },
    {
      name: "a group no longer assigned is not compared: the cycle deletes or leaves it",
      entitled: false,
      dialpad: { displayName: "Sales", externalId: "edited" },
      expected: null,
    },
  ])("$name", ({ entitled, dialpad, expected }) => {
    expect(assessLinkedGroup({ group, entitled, mapping, current: current(dialpad) })).toEqual(expected);
  });
});
