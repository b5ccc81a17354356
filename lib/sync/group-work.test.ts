import { describe, expect, it } from "vitest";
import { GROUPS_PER_WORK_SLICE, sliceGroupWork } from "./execute";
import type { MembershipGroup, PlannedOperation } from "./plan";

const operation = (sourceId: string, kind: PlannedOperation["kind"] = "create"): PlannedOperation => ({
  kind,
  action: kind === "create" ? "Create" : "Delete",
  objectType: "Group",
  sourceId,
  displayName: sourceId,
  targetId: null,
  reason: "",
  modifiedProperties: [],
  log: true,
  steps: [],
});
const group = (sourceId: string, memberIds: string[]): MembershipGroup => ({
  sourceId,
  displayName: sourceId,
  memberIds,
});

describe("sliceGroupWork", () => {
  it("keeps a group's operation and its members in one slice, members narrowed to provisioned users", () => {
    const slices = sliceGroupWork({
      groupOperations: [operation("sales"), operation("gone", "delete")],
      membershipGroups: [group("sales", ["ann", "bob", "out-of-scope"]), group("support", ["bob"])],
      provisionedUsers: new Set(["ann", "bob"]),
    });
    expect(slices).toEqual([
      {
        operations: [operation("sales"), operation("gone", "delete")],
        members: [group("sales", ["ann", "bob"]), group("support", ["bob"])],
      },
    ]);
  });

  it("has no member lists when members are not provisioned", () => {
    const slices = sliceGroupWork({
      groupOperations: [operation("sales")],
      membershipGroups: null,
      provisionedUsers: new Set(["ann"]),
    });
    expect(slices).toEqual([{ operations: [operation("sales")], members: null }]);
  });

  it("cuts every group into slices of a bounded number of groups, none lost or repeated", () => {
    const count = GROUPS_PER_WORK_SLICE * 2 + 7;
    const ids = Array.from({ length: count }, (_, index) => `g${index}`);
    const slices = sliceGroupWork({
      groupOperations: ids.filter((_, index) => index % 3 === 0).map((id) => operation(id)),
      membershipGroups: ids.map((id) => group(id, ["ann"])),
      provisionedUsers: new Set(["ann"]),
    });
    expect(slices.map((slice) => slice.members?.length)).toEqual([
      GROUPS_PER_WORK_SLICE,
      GROUPS_PER_WORK_SLICE,
      7,
    ]);
    const sliced = slices.flatMap((slice) => slice.members!.map((members) => members.sourceId));
    expect(sliced.length).toBe(count);
    expect(new Set(sliced)).toEqual(new Set(ids));
    for (const slice of slices) {
      const inSlice = new Set(slice.members!.map((members) => members.sourceId));
      expect(slice.operations.every((planned) => inSlice.has(planned.sourceId))).toBe(true);
    }
    expect(slices.flatMap((slice) => slice.operations).length).toBe(Math.ceil(count / 3));
  });

  it("gives nothing to do when there are no groups", () => {
    expect(
      sliceGroupWork({ groupOperations: [], membershipGroups: [], provisionedUsers: new Set() }),
    ).toEqual([]);
  });
});
