import { describe, expect, test } from "vitest";
import { defaultDialpadMapping } from "../mapping";
import { mappingEngineFor } from "./mapping-adapter";
import { evaluateCandidate, planObject, type PlanContext, type SourceCandidate } from "./plan";
import type { ObjectLinkRecord } from "./ports";
import { decideSourceShrink, type SourceShrinkDecision, type SourceShrinkInput } from "./source-shrink";

describe("source-shrink guard (golden table)", () => {
  const row = (
    current: number | null,
    previous: number | null,
    maxShrinkPercent: number,
    deletionsPlanned: number,
  ): SourceShrinkInput => ({ current, previous, maxShrinkPercent, deletionsPlanned });
  const accept: SourceShrinkDecision = { hold: false, reason: null };
  const held = (reason: string): SourceShrinkDecision => ({ hold: true, reason });

  const table: [string, SourceShrinkInput, SourceShrinkDecision][] = [
    [
      "none returned after 157: held whatever the percentage",
      row(0, 157, 100, 157),
      held("Microsoft Entra ID returned 0 assigned users; the last cycle had 157."),
    ],
    [
      "none returned, a single disable planned: held",
      row(0, 1, 30, 1),
      held("Microsoft Entra ID returned 0 assigned users; the last cycle had 1."),
    ],
    [
      "40 % fewer with a 30 % limit: held, with the numbers",
      row(60, 100, 30, 40),
      held(
        "Microsoft Entra ID returned 60 assigned users; the last cycle had 100 (40 % fewer, more than the 30 % allowed).",
      ),
    ],
    [
      "large counts are written with separators",
      row(1_000, 12_500, 30, 11_500),
      held(
        "Microsoft Entra ID returned 1,000 assigned users; the last cycle had 12,500 (92 % fewer, more than the 30 % allowed).",
      ),
    ],
    ["exactly 30 % fewer with a 30 % limit: not more than the limit", row(70, 100, 30, 30), accept],
    ["10 % fewer: proceeds", row(90, 100, 30, 10), accept],
    ["31 % fewer with a 50 % limit: proceeds", row(69, 100, 50, 31), accept],
    ["more users than before: proceeds", row(120, 100, 30, 0), accept],
    ["the same count: proceeds", row(100, 100, 30, 2), accept],
    ["no earlier count (first cycle): proceeds", row(0, null, 30, 0), accept],
    ["the last cycle had none: nothing to compare with", row(0, 0, 30, 0), accept],
    ["not measured this cycle (scope All, incremental): proceeds", row(null, 157, 30, 5), accept],
    ["shrunk, but nothing to disable or delete (already allowed): proceeds", row(0, 157, 30, 0), accept],
    [
      "a 100 % limit still holds an empty read",
      row(0, 5, 100, 5),
      held("Microsoft Entra ID returned 0 assigned users; the last cycle had 5."),
    ],
    ["a 100 % limit lets any non-empty read through", row(1, 500, 100, 499), accept],
    [
      "scope All counts every user, and says so",
      { ...row(0, 40, 30, 40), counted: "users" },
      held("Microsoft Entra ID returned 0 users; the last cycle had 40."),
    ],
  ];

  test.each(table)("%s", (_name, input, expected) => {
    expect(decideSourceShrink(input)).toEqual(expected);
  });
});

describe("SkipOutOfScopeDeletions in the planner", () => {
  const config = defaultDialpadMapping();
  config.users.scope = {
    groups: [
      {
        name: "Sales",
        clauses: [
          { operatorName: "EQUALS", sourceOperandName: "department", targetOperand: { values: ["Sales"] } },
        ],
      },
    ],
  };
  const users = mappingEngineFor(config, "User");
  const groups = mappingEngineFor(config, "Group", { withoutReferences: true });
  const entitled = { entitled: true, via: ["direct"], explanation: "", defaultAccessOnly: false };
  const unassigned = {
    entitled: false,
    via: [],
    explanation: "The user is not assigned to the Dialpad application",
    defaultAccessOnly: false,
  };
  const context = (skip: boolean, over: Partial<PlanContext> = {}): PlanContext => ({
    objectType: "User",
    engine: users,
    actions: { create: true, update: true, delete: true },
    cycleType: "incremental",
    now: "2026-12-07T00:00:00.000Z",
    skipOutOfScopeDeletions: skip,
    ...over,
  });
  const user = (over: Partial<SourceCandidate> = {}, attributes: Record<string, unknown> = {}) => ({
    objectType: "User" as const,
    sourceId: "u1",
    displayName: "Ann Lee",
    source: {
      objectId: "u1",
      IsSoftDeleted: false,
      userPrincipalName: "ann@contoso.example",
      givenName: "Ann",
      surname: "Lee",
      displayName: "Ann Lee",
      department: "Sales",
      ...attributes,
    },
    accountDisabled: false,
    entitlement: entitled,
    origin: "delta" as const,
    ...over,
  });
  const link = (over: Partial<ObjectLinkRecord> = {}): ObjectLinkRecord => ({
    objectType: "User",
    sourceId: "u1",
    targetId: "t1",
    displayName: "Ann Lee",
    exportedHash: "h",
    active: true,
    ...over,
  });
  const plan = (
    candidate: SourceCandidate,
    skip: boolean,
    over: Partial<PlanContext> = {},
    linked = link(),
  ) => planObject(evaluateCandidate(candidate, linked, users), null, context(skip, over));

  test("an unassigned user is skipped with the reason, and keeps its link with the hash cleared", () => {
    const candidate = user({ entitlement: unassigned });
    expect(plan(candidate, false)).toMatchObject({ kind: "disable" });
    const skipped = plan(candidate, true);
    expect(skipped).toMatchObject({
      kind: "skip",
      log: true,
      targetId: "t1",
      link: { targetId: "t1", exportedHash: null, active: true },
      statusInfo: { errorCode: "EntrySynchronizationSkipped" },
    });
    expect(skipped.reason).toContain("SkipOutOfScopeDeletions is set, so it stays active in Dialpad");
    expect(skipped.statusInfo?.reason).toBe(
      "The user went out of scope, and SkipOutOfScopeDeletions is set, so it was not disabled in Dialpad.",
    );
  });

  test("a linked user that lost its assignment is skipped once: later cycles do not log it again", () => {
    const candidate = user({ source: null, entitlement: unassigned, origin: "link" });
    expect(plan(candidate, true)).toMatchObject({ kind: "skip", log: true });
    expect(plan(candidate, true, {}, link({ exportedHash: null }))).toMatchObject({
      kind: "skip",
      log: false,
    });
  });

  test("a user that no longer matches the scoping filter is skipped too", () => {
    const candidate = user({}, { department: "Marketing" });
    expect(plan(candidate, false)).toMatchObject({ kind: "disable" });
    const skipped = plan(candidate, true);
    expect(skipped.kind).toBe("skip");
    expect(skipped.reason).toMatch(/^The user does not match the scoping filter .*SkipOutOfScopeDeletions/);
  });

  test("soft-deleted, hard-deleted and sign-in-blocked users are not out of scope: still disabled or deleted", () => {
    const softDeleted = user({ source: null, removed: "changed", entitlement: unassigned });
    expect(plan(softDeleted, true)).toMatchObject({ kind: "disable" });
    const hardDeleted = user({ source: null, removed: "deleted", entitlement: unassigned });
    expect(plan(hardDeleted, true)).toMatchObject({ kind: "delete" });
    expect(plan(hardDeleted, true, { actions: { create: true, update: true, delete: false } })).toMatchObject(
      { kind: "disable" },
    );
    // Blocked from sign-in and unassigned in the same cycle: disabled for the block.
    const blockedAndUnassigned = user(
      { accountDisabled: true, entitlement: unassigned },
      { IsSoftDeleted: true },
    );
    expect(plan(blockedAndUnassigned, true)).toMatchObject({ kind: "disable" });
    const blocked = user({ accountDisabled: true }, { IsSoftDeleted: true });
    const evaluation = evaluateCandidate(blocked, link({ exportedHash: "old" }), users);
    const current = {
      id: "t1",
      userName: "ann@contoso.example",
      active: true,
      displayName: "Ann Lee",
      externalId: "u1",
      name: { givenName: "Ann", familyName: "Lee" },
    };
    expect(
      planObject(
        evaluation,
        { status: "found", resource: current, matchedBy: "linked id t1" },
        context(true),
      ),
    ).toMatchObject({
      kind: "disable",
      operations: expect.arrayContaining([{ op: "Replace", path: "active", value: false }]),
    });
  });

  test("a group that leaves scope stays in Dialpad instead of being deleted", () => {
    const group: SourceCandidate = {
      objectType: "Group",
      sourceId: "g1",
      displayName: "Sales Team",
      source: { objectId: "g1", displayName: "Sales Team" },
      accountDisabled: false,
      entitlement: { ...unassigned, explanation: "The group is not assigned to the Dialpad application" },
      origin: "delta",
    };
    const groupLink = link({ objectType: "Group", sourceId: "g1", targetId: "tg1" });
    const planGroup = (skip: boolean) =>
      planObject(
        evaluateCandidate(group, groupLink, groups),
        null,
        context(skip, { objectType: "Group", engine: groups }),
      );
    expect(planGroup(false)).toMatchObject({ kind: "delete", link: null });
    const skipped = planGroup(true);
    expect(skipped).toMatchObject({ kind: "skip", link: { targetId: "tg1", exportedHash: null } });
    expect(skipped.statusInfo?.reason).toContain("so it was not deleted in Dialpad");
  });

  test("an out-of-scope user that was never provisioned is left alone either way", () => {
    const candidate = user({ entitlement: unassigned });
    const unlinked = planObject(evaluateCandidate(candidate, null, users), null, context(true));
    expect(unlinked).toMatchObject({ kind: "skip" });
    expect(unlinked.reason).not.toContain("SkipOutOfScopeDeletions");
  });
});
