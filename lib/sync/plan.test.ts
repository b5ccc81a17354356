import { describe, expect, test } from "vitest";
import { defaultDialpadMapping } from "../mapping";
import { mappingEngineFor } from "./mapping-adapter";
import {
  escrowRetryAt,
  evaluateCandidate,
  exceedsDeletionThreshold,
  planMemberships,
  planObject,
  type PlanContext,
  type SourceCandidate,
  type TargetLookup,
} from "./plan";
import type { ObjectLinkRecord } from "./ports";
import { escrowQuarantineReason, nextQuarantineState } from "./quarantine";

const config = defaultDialpadMapping();
const users = mappingEngineFor(config, "User");
const groups = mappingEngineFor(config, "Group", { withoutReferences: true });
const entitled = { entitled: true, via: ["direct"], explanation: "", defaultAccessOnly: false };
const unassigned = {
  entitled: false,
  via: [],
  explanation: "The user is not assigned",
  defaultAccessOnly: false,
};
const context = (over: Partial<PlanContext> = {}): PlanContext => ({
  objectType: "User",
  engine: users,
  actions: { create: true, update: true, delete: true },
  cycleType: "incremental",
  now: "2026-11-28T00:00:00.000Z",
  ...over,
});

function user(
  over: Partial<SourceCandidate> = {},
  attributes: Record<string, unknown> = {},
): SourceCandidate {
  return {
    objectType: "User",
    sourceId: "u1",
    displayName: "Ann Lee",
    source: {
      objectId: "u1",
      IsSoftDeleted: false,
      userPrincipalName: "ann@contoso.example",
      givenName: "Ann",
      surname: "Lee",
      displayName: "Ann Lee",
      jobTitle: "Engineer",
      ...attributes,
    },
    accountDisabled: false,
    entitlement: entitled,
    origin: "delta",
    ...over,
  };
}

const link = (over: Partial<ObjectLinkRecord> = {}): ObjectLinkRecord => ({
  objectType: "User",
  sourceId: "u1",
  targetId: "t1",
  displayName: "Ann Lee",
  exportedHash: null,
  active: true,
  ...over,
});

describe("planObject", () => {
  test("an unchanged hash skips the object without any Dialpad read", () => {
    const candidate = user();
    const hash = users.desiredHash(candidate.source!);
    const evaluation = evaluateCandidate(candidate, link({ exportedHash: hash }), users);
    expect(evaluation.lookup).toBeNull();
    const planned = planObject(evaluation, null, context());
    expect(planned).toMatchObject({ kind: "skip", statusInfo: { errorCode: "RedundantExport" } });
  });

  test("a changed attribute plans a PATCH of that attribute only", () => {
    const candidate = user({}, { jobTitle: "Lead" });
    const evaluation = evaluateCandidate(candidate, link({ exportedHash: "old" }), users);
    expect(evaluation.lookup).toMatchObject({ by: "id", targetId: "t1" });
    const current = {
      id: "t1",
      userName: "ann@contoso.example",
      title: "Engineer",
      active: true,
      displayName: "Ann Lee",
      externalId: "u1",
      name: { givenName: "Ann", familyName: "Lee" },
    };
    const planned = planObject(
      evaluation,
      { status: "found", resource: current, matchedBy: "linked id t1" },
      context(),
    );
    expect(planned).toMatchObject({
      kind: "update",
      operations: [{ op: "Replace", path: "title", value: "Lead" }],
    });
  });

  test("an unassigned linked user is disabled without reading Dialpad; an unlinked one is left alone", () => {
    const candidate = user({ entitlement: unassigned });
    const linked = evaluateCandidate(candidate, link({ exportedHash: "h" }), users);
    expect(linked.lookup).toBeNull();
    expect(planObject(linked, null, context())).toMatchObject({
      kind: "disable",
      operations: [{ op: "Replace", path: "active", value: false }],
      link: { exportedHash: null, active: false },
    });
    expect(planObject(evaluateCandidate(candidate, null, users), null, context())).toMatchObject({
      kind: "skip",
      log: false,
    });
  });

  test("a hard delete is a DELETE only when the Delete action is on", () => {
    const deleted = user({ source: null, removed: "deleted", entitlement: unassigned });
    const evaluation = evaluateCandidate(deleted, link({ exportedHash: "h" }), users);
    expect(planObject(evaluation, null, context())).toMatchObject({
      kind: "delete",
      targetId: "t1",
      link: null,
    });
    expect(
      planObject(evaluation, null, context({ actions: { create: true, update: true, delete: false } })),
    ).toMatchObject({ kind: "disable" });
  });

  test("more than one match is a DuplicateTargetEntries failure, never a guess", () => {
    const evaluation = evaluateCandidate(user(), null, users);
    const lookup: TargetLookup = {
      status: "failed",
      error: { errorCode: "DuplicateTargetEntries", reason: "2 match" },
    };
    expect(planObject(evaluation, lookup, context())).toMatchObject({
      kind: "fail",
      statusInfo: { errorCode: "DuplicateTargetEntries" },
    });
  });

  test("no match creates the mapped resource", () => {
    const evaluation = evaluateCandidate(user(), null, users);
    const planned = planObject(
      evaluation,
      { status: "absent", tried: ["userName = ann@contoso.example"] },
      context(),
    );
    expect(planned.kind).toBe("create");
    expect(planned.resource).toMatchObject({
      userName: "ann@contoso.example",
      active: true,
      title: "Engineer",
    });
  });

  test("a group rename is not sent: skipped with the reason", () => {
    const group: SourceCandidate = {
      objectType: "Group",
      sourceId: "g1",
      displayName: "New Name",
      source: { objectId: "g1", displayName: "New Name", IsSoftDeleted: false },
      accountDisabled: false,
      entitlement: { ...entitled },
      origin: "delta",
    };
    const evaluation = evaluateCandidate(
      group,
      { ...link(), objectType: "Group", sourceId: "g1", exportedHash: "old" },
      groups,
    );
    const planned = planObject(
      evaluation,
      {
        status: "found",
        resource: { id: "t1", displayName: "Old Name", externalId: "g1" },
        matchedBy: "linked id",
      },
      context({ objectType: "Group", engine: groups }),
    );
    expect(planned).toMatchObject({ kind: "skip", statusInfo: { errorCode: "GroupRenameNotSupported" } });
    expect(planned.reason).toContain("New Name");
    expect(planned.operations).toBeUndefined();
  });
});

describe("cycle rules", () => {
  test("the deletion threshold counts disables and deletes, and trips above it", () => {
    const op = (kind: "disable" | "delete" | "update") => ({ kind }) as never;
    const settings = { preventAccidentalDeletes: true, deletionThreshold: 2 };
    expect(exceedsDeletionThreshold([op("disable"), op("delete"), op("update")], settings)).toBe(false);
    expect(exceedsDeletionThreshold([op("disable"), op("delete"), op("disable")], settings)).toBe(true);
    expect(
      exceedsDeletionThreshold([op("disable"), op("delete"), op("disable")], {
        ...settings,
        preventAccidentalDeletes: false,
      }),
    ).toBe(false);
  });

  test("memberships: desired members with an account, minus what was exported", () => {
    const planned = planMemberships({
      groups: [
        { sourceId: "g1", displayName: "G", memberIds: ["a", "b", "out"] },
        { sourceId: "g2", displayName: "H", memberIds: ["a"] },
      ],
      exported: new Map([
        ["g1", new Set(["b", "gone"])],
        ["g2", new Set(["a"])],
      ]),
      provisionedUsers: new Set(["a", "b"]),
    });
    expect(planned).toEqual([{ groupSourceId: "g1", displayName: "G", add: ["a"], remove: ["gone"] }]);
  });

  test("escrow retries: next cycle, then +1 h, +6 h, +24 h", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const hours = [1, 2, 3, 4, 9].map(
      (attempts) => (escrowRetryAt(attempts, now).getTime() - now.getTime()) / 3_600_000,
    );
    expect(hours).toEqual([0, 1, 6, 24, 24]);
  });

  test("quarantine: +6 h, +12 h, +24 h then daily; one e-mail per reason; off after 28 days", () => {
    const start = new Date("2026-01-01T00:00:00Z");
    let state = {
      reason: null,
      seriesBegan: null,
      currentBegan: null,
      nextAttempt: null,
      seriesCount: 0,
      notifiedReason: null,
    } as Parameters<typeof nextQuarantineState>[0];
    const delays: number[] = [];
    const notifications: boolean[] = [];
    for (let i = 0; i < 5; i += 1) {
      const decision = nextQuarantineState(state, "EncounteredQuarantineException", start);
      delays.push((decision.state.nextAttempt!.getTime() - start.getTime()) / 3_600_000);
      notifications.push(decision.notify);
      state = {
        ...decision.state,
        notifiedReason: decision.notify ? "EncounteredQuarantineException" : decision.state.notifiedReason,
      };
    }
    expect(delays).toEqual([6, 12, 24, 24, 24]);
    expect(notifications).toEqual([true, false, false, false, false]);
    expect(nextQuarantineState(state, "TooManyDeletes", start).notify).toBe(true);
    const late = new Date(start.getTime() + 28 * 24 * 3_600_000);
    expect(nextQuarantineState(state, "EncounteredQuarantineException", late).disableProvisioning).toBe(true);
    expect(nextQuarantineState(state, null, late)).toMatchObject({
      state: { reason: null },
      disableProvisioning: false,
    });
  });

  test("escrow thresholds follow Entra's numbers", () => {
    const base = { referenceFailures: 0, cycleEvents: 10_000, cycleFailures: 1_000 };
    expect(escrowQuarantineReason({ ...base, objectFailures: 4_999, cycleFailures: 9_000 })).toBeNull();
    expect(escrowQuarantineReason({ ...base, objectFailures: 5_000, cycleFailures: 4_001 })).toBe(
      "EncounteredEscrowProportionThreshold",
    );
    expect(escrowQuarantineReason({ ...base, objectFailures: 5_000 })).toBeNull();
    expect(escrowQuarantineReason({ ...base, objectFailures: 40_001 })).toBe(
      "EncounteredBaseEscrowThreshold",
    );
    expect(escrowQuarantineReason({ ...base, objectFailures: 30_000, referenceFailures: 30_001 })).toBe(
      "EncounteredTotalEscrowThreshold",
    );
  });
});
