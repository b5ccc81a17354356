import { describe, expect, it } from "vitest";
import type { Connection } from "@/lib/client/connections";
import { ZUpdateConnection } from "@/lib/contracts/connections";
import { type SettingsAction, changedSettings, draftOf, settingsReducer } from "./settings-form-state";

const secret = { isSet: true, last4: "e7a6", updatedAt: "2026-12-01T10:00:00.000Z" };

const saved: Connection = {
  id: "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b",
  name: "Dialpad (sandbox)",
  version: 7,
  isSandbox: true,
  tenantUrl: "https://localhost:3953/scim",
  secretToken: { ...secret, expiresAt: "2027-03-01T09:30:00.000Z", expiresSoon: false, isExpired: false },
  graph: {
    authorityHost: "https://login.microsoftonline.com",
    baseUrl: null,
    tenantId: "contoso",
    clientId: null,
    clientSecret: { isSet: false, last4: null, updatedAt: null },
    servicePrincipalId: null,
  },
  scope: "AssignedOnly",
  notificationEmail: null,
  notifyOnFailure: true,
  preventAccidentalDeletes: true,
  deletionThreshold: 500,
  requireApprovalForDeletions: false,
  skipOutOfScopeDeletions: false,
  sourceShrinkPercent: 30,
  reconcileAfterFullCycle: false,
  reconcileAlertEmail: false,
  scheduleMode: "interval",
  scheduleIntervalMinutes: 40,
  provisioningEnabled: false,
  webhook: {
    url: null,
    secret: { isSet: false, last4: null, updatedAt: null },
    events: ["cycle.finished", "quarantine.entered"],
  },
  createdAt: "2026-12-01T10:00:00.000Z",
  updatedAt: "2026-12-01T10:00:00.000Z",
};

function edit(...actions: SettingsAction[]) {
  return actions.reduce(settingsReducer, draftOf(saved));
}

describe("the settings form's draft", () => {
  it("opens with the saved values and no secrets, so an untouched form sends nothing", () => {
    const draft = draftOf(saved);
    expect(draft.tenantUrl).toBe("https://localhost:3953/scim");
    expect(draft.secretTokenExpiresAt).toBe("2027-03-01");
    expect(draft.deletionThreshold).toBe("500");
    expect(draft.graphBaseUrl).toBe("");
    expect([draft.secretToken, draft.graphClientSecret, draft.webhookSecret]).toEqual(["", "", ""]);
    // The saved expiry is 09:30 UTC; the date input shows only the day, which must not count as a change.
    expect(changedSettings(saved, draft)).toEqual({});
  });

  it("sends only the fields that changed, trimmed, numbers as numbers and emptied fields as null", () => {
    const draft = edit(
      { type: "text", field: "tenantUrl", value: "  https://dialpad.com/scim " },
      { type: "text", field: "graphTenantId", value: "" },
      { type: "text", field: "deletionThreshold", value: "25" },
      { type: "text", field: "scheduleIntervalMinutes", value: "040" },
      { type: "flag", field: "provisioningEnabled", value: true },
      { type: "scope", value: "All" },
    );
    const body = changedSettings(saved, draft);
    expect(body).toEqual({
      tenantUrl: "https://dialpad.com/scim",
      graphTenantId: null,
      deletionThreshold: 25,
      provisioningEnabled: true,
      scope: "All",
    });
    expect(ZUpdateConnection.safeParse({ settings: body, expectedVersion: saved.version }).success).toBe(
      true,
    );
  });

  it("sends a new expiry date as midnight UTC of that day, and a cleared one as null", () => {
    expect(
      changedSettings(saved, edit({ type: "text", field: "secretTokenExpiresAt", value: "2027-06-30" })),
    ).toEqual({ secretTokenExpiresAt: "2027-06-30T00:00:00.000Z" });
    expect(changedSettings(saved, edit({ type: "text", field: "secretTokenExpiresAt", value: "" }))).toEqual({
      secretTokenExpiresAt: null,
    });
  });

  it("sends a number it cannot read as a number, so the server names the field", () => {
    const body = changedSettings(saved, edit({ type: "text", field: "sourceShrinkPercent", value: "ten" }));
    expect(Number.isNaN(body.sourceShrinkPercent)).toBe(true);
    const parsed = ZUpdateConnection.safeParse({ settings: body });
    expect(parsed.error?.issues.map((issue) => issue.path.join("."))).toEqual([
      "settings.sourceShrinkPercent",
    ]);
  });

  it("sends typed secrets whatever else changed, and empties them after a save", () => {
    const draft = edit(
      { type: "text", field: "secretToken", value: "dpsbx_new" },
      { type: "text", field: "webhookSecret", value: "sixteen-chars-long!" },
    );
    expect(changedSettings(saved, draft)).toEqual({
      secretToken: "dpsbx_new",
      webhookSecret: "sixteen-chars-long!",
    });
    const afterSave = settingsReducer(draft, { type: "saved" });
    expect([afterSave.secretToken, afterSave.webhookSecret]).toEqual(["", ""]);
    expect(changedSettings(saved, afterSave)).toEqual({});
  });

  it("sends the webhook events only when the set changed, not when only their order did", () => {
    const reordered = edit(
      { type: "webhookEvent", event: "cycle.finished", subscribed: false },
      { type: "webhookEvent", event: "cycle.finished", subscribed: true },
    );
    expect(reordered.webhookEvents).toEqual(["quarantine.entered", "cycle.finished"]);
    expect(changedSettings(saved, reordered)).toEqual({});

    const added = edit({ type: "webhookEvent", event: "deletions.held", subscribed: true });
    expect(changedSettings(saved, added)).toEqual({
      webhookEvents: ["cycle.finished", "quarantine.entered", "deletions.held"],
    });
    // Ticking a box twice never lists the event twice (the contract refuses duplicates).
    const twice = settingsReducer(added, { type: "webhookEvent", event: "deletions.held", subscribed: true });
    expect(twice.webhookEvents.filter((event) => event === "deletions.held")).toHaveLength(1);
  });

  it("compares with the connection as saved now, so a value saved meanwhile is not sent back", () => {
    const draft = edit({ type: "flag", field: "provisioningEnabled", value: true });
    const startedElsewhere = { ...saved, provisioningEnabled: true, version: 8 };
    expect(changedSettings(startedElsewhere, draft)).toEqual({});
  });
});
