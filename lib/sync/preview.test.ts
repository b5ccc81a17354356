import { describe, expect, test } from "vitest";
import type { PlannedOperation } from "./plan";
import {
  NOT_IN_PREVIEW,
  operationFingerprint,
  preflightChecks,
  previewImpact,
  reenables,
  restrictMembershipsToApproved,
  restrictToApproved,
  toPreviewOperation,
} from "./preview";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

function operation(
  fields: Partial<PlannedOperation> & Pick<PlannedOperation, "kind" | "sourceId">,
): PlannedOperation {
  return {
    action: fields.kind === "create" ? "Create" : fields.kind === "update" ? "Update" : "Other",
    objectType: "User",
    displayName: fields.sourceId,
    targetId: fields.kind === "create" ? null : `t-${fields.sourceId}`,
    reason: "",
    modifiedProperties: [],
    log: true,
    steps: [],
    ...fields,
  };
}

const create = (sourceId: string, office: string | null, title = "Engineer") =>
  operation({
    kind: "create",
    sourceId,
    resource: {
      schemas: [],
      userName: `${sourceId}@contoso.example`,
      title,
      ...(office ? { [ENTERPRISE]: { officeName: office } } : {}),
    },
  });

describe("fingerprints", () => {
  test("equal content gives an equal fingerprint whatever the key order; any sent value changes it", () => {
    const a = create("u1", "London");
    const reordered = {
      ...a,
      resource: {
        title: "Engineer",
        [ENTERPRISE]: { officeName: "London" },
        userName: "u1@contoso.example",
        schemas: [],
      },
    };
    expect(operationFingerprint(reordered)).toBe(operationFingerprint(a));
    expect(operationFingerprint(create("u1", "London", "Manager"))).not.toBe(operationFingerprint(a));
    expect(operationFingerprint(create("u2", "London"))).not.toBe(operationFingerprint(a));
    const patch = operation({
      kind: "update",
      sourceId: "u1",
      operations: [{ op: "Replace", path: "title", value: "A" }],
    });
    const other = operation({
      kind: "update",
      sourceId: "u1",
      operations: [{ op: "Replace", path: "title", value: "B" }],
    });
    expect(operationFingerprint(patch)).not.toBe(operationFingerprint(other));
  });
});

describe("applying a preview", () => {
  test("only approved operations stay; the others become logged skips that leave links alone", () => {
    const approvedCreate = create("u1", "London");
    const changedCreate = create("u2", "London", "Changed after the preview");
    const skip = operation({ kind: "skip", sourceId: "u3", log: false });
    const approved = new Set([
      operationFingerprint(approvedCreate),
      operationFingerprint(create("u2", "London")),
    ]);
    const { plan, notApproved } = restrictToApproved([approvedCreate, changedCreate, skip], approved);
    expect(plan[0]).toBe(approvedCreate);
    expect(plan[1]).toMatchObject({
      kind: "skip",
      action: "Other",
      log: true,
      link: undefined,
      resource: undefined,
      statusInfo: { errorCode: NOT_IN_PREVIEW },
    });
    expect(plan[2]).toBe(skip);
    expect(notApproved.map((item) => item.sourceId)).toEqual(["u2"]);
  });

  test("membership changes are approved member by member", () => {
    const { memberships, notApproved } = restrictMembershipsToApproved(
      [
        { groupSourceId: "g1", displayName: "G1", add: ["u1", "u2"], remove: ["u3"] },
        { groupSourceId: "g2", displayName: "G2", add: ["u4"], remove: [] },
      ],
      new Set(["g1|add|u1", "g1|remove|u3"]),
    );
    expect(memberships).toEqual([{ groupSourceId: "g1", displayName: "G1", add: ["u1"], remove: ["u3"] }]);
    expect(notApproved).toBe(2);
  });
});

describe("impact and pre-flight", () => {
  const operations = [
    create("u1", "London"),
    create("u2", "Berlin"),
    create("u3", "Berlin"),
    create("u4", null),
    operation({ kind: "disable", sourceId: "u5" }),
    operation({
      kind: "skip",
      sourceId: "g1",
      objectType: "Group",
      renameRefused: "Customer Support",
      displayName: "Dialpad Support",
    }),
  ].map(toPreviewOperation);
  const impact = previewImpact(
    operations,
    [{ groupSourceId: "g1", displayName: "G", add: ["u1", "u2"], remove: [] }],
    1,
  );

  test("counts, seats, offices of new users and refused renames", () => {
    expect(impact.counts.create).toEqual({ users: 4, groups: 0 });
    expect(impact.counts.disable).toEqual({ users: 1, groups: 0 });
    expect(impact.newSeats).toBe(5);
    expect(impact.officesOfNewUsers).toEqual({ London: 1, Berlin: 2, "": 1 });
    expect(impact.groupRenamesNotApplied).toEqual([
      { sourceId: "g1", displayName: "Dialpad Support", newName: "Customer Support" },
    ]);
    expect(impact.memberships).toEqual({ added: 2, removed: 0, groups: 1 });
    expect(impact.disablesOrDeletes).toBe(1);
  });

  test("pre-flight: unknown offices, key expiry, renames and licences", () => {
    const now = new Date("2026-11-28T00:00:00Z");
    const checks = preflightChecks({
      impact,
      dialpadOffices: ["London", "New York"],
      secretTokenExpiresAt: new Date("2026-12-05T00:00:00Z"),
      now,
    });
    const byId = Object.fromEntries(checks.map((check) => [check.id, check]));
    expect(byId.offices).toMatchObject({ status: "warn", items: ["Berlin: 2 user(s)"] });
    expect(byId["secret-token-expiry"]).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(/in 7 day/),
    });
    expect(byId["group-renames"]).toMatchObject({
      status: "warn",
      items: ["Dialpad Support → Customer Support"],
    });
    expect(byId.licences).toMatchObject({ status: "info", detail: expect.stringMatching(/^5 user/) });

    const expired = preflightChecks({
      impact,
      dialpadOffices: null,
      officesError: "HTTP 403",
      secretTokenExpiresAt: new Date("2026-11-01T00:00:00Z"),
      now,
    });
    expect(expired.find((check) => check.id === "secret-token-expiry")?.status).toBe("fail");
    expect(expired.find((check) => check.id === "offices")).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(/HTTP 403/),
    });
    const fine = preflightChecks({
      impact: previewImpact([], [], 0),
      dialpadOffices: ["London"],
      secretTokenExpiresAt: new Date("2027-06-01T00:00:00Z"),
      now,
    });
    expect(fine.map((check) => check.status)).toEqual(["pass", "pass", "pass", "info"]);
  });

  test("an update that turns active back on takes a licence again", () => {
    expect(
      reenables(
        operation({
          kind: "update",
          sourceId: "u",
          operations: [{ op: "Replace", path: "active", value: true }],
        }),
      ),
    ).toBe(true);
    expect(
      reenables(
        operation({
          kind: "update",
          sourceId: "u",
          operations: [{ op: "Replace", path: "title", value: "x" }],
        }),
      ),
    ).toBe(false);
  });
});
