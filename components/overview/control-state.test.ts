import { describe, expect, it } from "vitest";
import { controlReasons, currentNotice, READER_REASON } from "./control-state";
import type { Status } from "@/lib/client/status";

const NOW = Date.parse("2026-12-07T12:00:00Z");

function status(overrides: Partial<Status>): Status {
  return {
    code: "Active",
    provisioningEnabled: true,
    paused: false,
    quarantine: null,
    currentCycle: null,
    lastCycle: null,
    lastSuccessfulCycle: null,
    heldChanges: { count: 0, sample: [] },
    escrows: { objects: 0, references: 0 },
    refusedAttributes: [],
    synchronizedEntryCountByType: {},
    nextCycleAt: null,
    schedule: { mode: "interval", lastPollAt: null, lastPollError: null, nextPollAt: null, lastChange: null },
    jobId: null,
    cycleId: null,
    configurationFailure: null,
    ...overrides,
  };
}

function cycle(id: string, state: string): NonNullable<Status["lastCycle"]> {
  return {
    id,
    type: "initial",
    status: state,
    dryRun: false,
    trigger: "start",
    startedAt: "2026-12-07T11:59:00Z",
    endedAt: state === "running" ? null : "2026-12-07T11:59:30Z",
    completedUnits: 1,
    totalUnits: 1,
    counts: null,
    countsSoFar: state === "running",
    error: null,
  };
}

const ADMIN = { loaded: true, canWrite: true };

describe("controlReasons", () => {
  it("says once that the connection must be configured, though Start and Restart are both off", () => {
    const reasons = controlReasons(status({ code: "NotConfigured" }), ADMIN, NOW);
    expect(reasons.start).toBe(reasons.restart);
    expect(reasons.shown.filter((r) => r.includes("Configure the connection"))).toHaveLength(1);
  });

  it("turns Start off while a cycle runs and while a queued cycle is already due", () => {
    const runningStatus = status({ lastCycle: cycle("c1", "running") });
    expect(controlReasons(runningStatus, ADMIN, NOW).start).toMatch(/cycle is running.*do nothing/);
    const due = status({ nextCycleAt: "2026-12-07T11:59:59Z", lastCycle: cycle("c1", "succeeded") });
    expect(controlReasons(due, ADMIN, NOW).start).toMatch(/begins in a moment.*do nothing/);
  });

  it("keeps Start on when the next cycle is scheduled later, since Start runs it now", () => {
    const later = status({ nextCycleAt: "2026-12-07T12:40:00Z", lastCycle: cycle("c1", "succeeded") });
    expect(controlReasons(later, ADMIN, NOW).start).toBeNull();
    expect(controlReasons(later, ADMIN, NOW).shown).toEqual([
      "Start runs the next scheduled cycle now instead of waiting for it.",
    ]);
  });

  it("in continuous mode says Start runs a cycle now, though none is scheduled", () => {
    const continuous = status({
      lastCycle: cycle("c1", "succeeded"),
      schedule: {
        mode: "continuous",
        lastPollAt: null,
        lastPollError: null,
        nextPollAt: null,
        lastChange: null,
      },
    });
    expect(controlReasons(continuous, ADMIN, NOW).start).toBeNull();
    expect(controlReasons(continuous, ADMIN, NOW).shown).toEqual([
      "Start runs a cycle now; in continuous mode one runs by itself as soon as Entra ID changes.",
    ]);
  });

  it("gives a reader one reason for all three buttons", () => {
    const reasons = controlReasons(status({}), { loaded: true, canWrite: false }, NOW);
    expect([reasons.start, reasons.stop, reasons.restart]).toEqual([
      READER_REASON,
      READER_REASON,
      READER_REASON,
    ]);
    expect(reasons.shown).toEqual([READER_REASON]);
  });
});

describe("currentNotice", () => {
  const queued = { kind: "queued" as const, text: "Provisioning started: a cycle is queued…", cycleId: "c1" };

  it("keeps the queued notice until the cycle begins, then says it runs, then drops it when it ended", () => {
    expect(currentNotice(queued, status({ lastCycle: cycle("c1", "succeeded") }))).toBe(queued.text);
    expect(currentNotice(queued, status({ lastCycle: cycle("c2", "running") }))).toMatch(/running now/);
    expect(currentNotice(queued, status({ lastCycle: cycle("c2", "succeeded") }))).toBeNull();
  });

  it("drops the stopping notice once the stopping cycle ended", () => {
    const stopping = { kind: "stopping" as const, text: "Stopping…", cycleId: "c2" };
    expect(currentNotice(stopping, status({ lastCycle: cycle("c2", "running") }))).toBe("Stopping…");
    expect(currentNotice(stopping, status({ lastCycle: cycle("c2", "stopped") }))).toBeNull();
  });
});
