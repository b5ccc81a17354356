import { describe, expect, it } from "vitest";
import type { OnDemandResult } from "@/lib/client/on-demand";
import { attributeOutcomeText } from "./explain-outcome";

type Decision = Pick<OnDemandResult, "action" | "status" | "statusInfo" | "provisioningSteps">;

function decision(overrides: Partial<Decision>, inScope = true): Decision {
  return {
    action: "Create",
    status: "Skipped",
    statusInfo: { status: "Skipped", errorCode: "ExplainOnly" },
    provisioningSteps: [
      {
        name: "EntryImport",
        type: "Import",
        status: "success",
        description: "",
        timestamp: "2026-12-07T12:00:00Z",
        details: {},
      },
      {
        name: "EntrySynchronizationScoping",
        type: "Scoping",
        status: inScope ? "success" : "skipped",
        description: "",
        timestamp: "2026-12-07T12:00:00Z",
        details: {},
      },
    ],
    ...overrides,
  };
}

describe("attributeOutcomeText", () => {
  it("says sent only when the next provisioning would create or update the user", () => {
    expect(attributeOutcomeText("exports", decision({}))).toBe("sent");
    expect(attributeOutcomeText("exports", decision({ action: "Update" }))).toBe("sent if changed");
  });

  it("says nothing is sent for a user out of scope", () => {
    const skipped = decision(
      { action: "Other", statusInfo: { status: "Skipped", errorCode: "EntrySynchronizationSkipped" } },
      false,
    );
    expect(attributeOutcomeText("exports", skipped)).toBe("not sent (out of scope)");
  });

  it("says nothing is sent when the user would be disabled, fails or is up to date", () => {
    expect(attributeOutcomeText("exports", decision({ action: "Disable" }))).toMatch(/not sent.*disabled/);
    const failing = decision({ status: "Failure", statusInfo: { status: "Failure", errorCode: "X" } });
    expect(attributeOutcomeText("exports", failing)).toMatch(/^not sent \(provisioning fails/);
    const upToDate = decision({
      action: "Other",
      statusInfo: { status: "Skipped", errorCode: "RedundantExport" },
    });
    expect(attributeOutcomeText("exports", upToDate)).toBe("not sent (already up to date)");
  });

  it("keeps the mapping's own reasons for values that are never exported", () => {
    expect(attributeOutcomeText("null", decision({}))).toBe("not sent: the value is empty");
  });
});
