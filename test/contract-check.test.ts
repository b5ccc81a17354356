import { expect, test } from "vitest";
import { ZConnection } from "@/lib/contracts/connections";
import { ZStatus } from "@/lib/contracts/status";
import { contractViolations } from "./contract-check";

/**
 * The check api-coverage runs on every real response must catch what a client would trip over: a field
 * of the wrong type, a missing field, and a field the contract does not declare (which z.object would
 * otherwise strip without a word).
 */
const connection = {
  id: "5f0d3a9e-1c2b-4d5e-8f70-112233445566",
  name: "Contoso",
  version: 3,
  isSandbox: false,
  tenantUrl: "https://dialpad.com/scim",
  secretToken: {
    isSet: true,
    last4: "abcd",
    updatedAt: "2026-12-01T10:00:00.000Z",
    expiresAt: null,
    expiresSoon: false,
    isExpired: false,
  },
  graph: {
    authorityHost: null,
    baseUrl: null,
    tenantId: null,
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
  provisioningEnabled: true,
  webhook: { url: null, secret: { isSet: false, last4: null, updatedAt: null }, events: [] },
  createdAt: "2026-12-01T10:00:00.000Z",
  updatedAt: "2026-12-01T10:00:00.000Z",
};

test("a body that keeps the contract has no violations", () => {
  expect(contractViolations(ZConnection, connection)).toEqual([]);
});

test("a field of the wrong type is named with its path", () => {
  const violations = contractViolations(ZConnection, {
    ...connection,
    secretToken: { ...connection.secretToken, isSet: "yes" },
  });
  expect(violations).toEqual([expect.stringMatching(/^secretToken\.isSet: /)]);
});

test("a missing field and a date that is not ISO 8601 are violations", () => {
  const { version: _version, ...withoutVersion } = connection;
  const violations = contractViolations(ZConnection, { ...withoutVersion, createdAt: "yesterday" });
  expect(violations).toEqual(
    expect.arrayContaining([expect.stringMatching(/^version: /), expect.stringMatching(/^createdAt: /)]),
  );
});

test("a field the contract does not declare is a violation, however deep (a leaked secret, say)", () => {
  const violations = contractViolations(ZConnection, {
    ...connection,
    graph: { ...connection.graph, clientSecret: { ...connection.graph.clientSecret, value: "s3cret" } },
  });
  expect(violations).toEqual(["graph.clientSecret.value: sent but not declared in the contract"]);
});

test("undeclared fields inside arrays are found by index", () => {
  const status = {
    code: "Active",
    provisioningEnabled: true,
    paused: false,
    quarantine: null,
    currentCycle: null,
    lastCycle: null,
    lastSuccessfulCycle: null,
    heldChanges: {
      count: 1,
      sample: [{ objectType: "User", sourceId: "u1", action: "Delete", displayName: null, extra: 1 }],
    },
    escrows: { objects: 0, references: 0 },
    refusedAttributes: [],
    synchronizedEntryCountByType: { User: 1, Group: 0 },
    nextCycleAt: null,
    schedule: {
      mode: "continuous",
      lastPollAt: null,
      lastPollError: null,
      nextPollAt: null,
      lastChange: null,
    },
    jobId: null,
    cycleId: null,
    configurationFailure: null,
  };
  expect(contractViolations(ZStatus, status)).toEqual([
    "heldChanges.sample[0].extra: sent but not declared in the contract",
  ]);
});
