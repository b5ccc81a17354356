/**
 * The one yardstick every fault test ends with: it counts what is in the emulators and the database
 * after the fault and the recovery, and says in numbers what an admin would see go wrong (users missing
 * in Dialpad, a user created twice, a 409 "EntryConflict" failure for a user that exists, a change in
 * Dialpad with no provisioning-log entry, a cycle that says Succeeded while some of its work never ran,
 * cycle counts that disagree with the log).
 */
import { expect } from "vitest";
import type { Database } from "@/lib/db/client";
import { describeSeed } from "@/sandbox/graph/seed";
import type { RunningSandbox } from "@/sandbox/main";

export interface FaultReport {
  /** In-scope users of the Graph directory: what Dialpad must hold once the cycle converged. */
  expectedUsers: number;
  /** Of those, how many Dialpad holds (matched by userName). */
  inDialpad: number;
  /** All users in Dialpad (so out-of-scope ones created by mistake show too). */
  dialpadUsers: number;
  /** userNames Dialpad holds more than once (case-insensitive). */
  duplicateUserNames: number;
  /** POST /Users answered 409: the engine tried to create a user that already existed. */
  conflictResponses: number;
  /** Failure log entries with errorCode EntryConflict whose user exists in Dialpad (a false failure). */
  falseConflictFailures: number;
  /** Every Failure log entry of the connection. */
  failureLogs: number;
  /** Users with more than one Create/Success entry (created twice, or logged twice). */
  repeatedCreateLogs: number;
  /** User links with no Create or Update Success log entry for their user. */
  linksWithoutSuccessLog: number;
  /** Dialpad users written by a successful POST or PATCH that have no Success log entry naming them. */
  writesWithoutLog: number;
  cycle: {
    status: string;
    totalUnits: number;
    completedUnits: number;
    failedUnits: number;
    cancelledUnits: number;
    /** Unit jobs of the cycle that did not end succeeded. */
    unitsNotSucceeded: number;
    /** Users whose create or update is in more than one unit of the cycle (planned twice). */
    usersPlannedTwice: number;
    /** In-scope users whose create or update this cycle planned but that Dialpad still lacks. */
    unprocessedPlannedUsers: number;
    /** totalUnits equals the cycle's unit jobs, and completed + failed + cancelled equals totalUnits. */
    unitCountersTruthful: boolean;
    /** cycle-finalize jobs of the cycle (1 once a fanned-out cycle ended). */
    finalizers: number;
    /** A finalizer started before the last unit finished. */
    finalizedEarly: boolean;
    /** Status succeeded although some planned object was not processed. */
    succeededWithUnprocessed: boolean;
    counts: Record<string, number>;
  };
  /** The cycle's counts against its own log entries, each as [cycle count, log entries]. */
  countsVsLogs: { created: [number, number]; updated: [number, number]; failed: [number, number] };
}

export async function collectFaultReport(input: {
  db: Database;
  sandbox: RunningSandbox;
  connectionId: string;
  cycleId: string;
}): Promise<FaultReport> {
  const { db, sandbox, connectionId, cycleId } = input;
  const directory = sandbox.graph.directory;
  const expectedUserNames = describeSeed(directory).inScopeUserIds.map((id) =>
    directory.getUser(id)!.userPrincipalName.toLowerCase(),
  );
  const dialpadUsers = [...sandbox.dialpad.company.users.values()];
  const userNameCounts = new Map<string, number>();
  for (const user of dialpadUsers) {
    const userName = String(user.attributes.userName).toLowerCase();
    userNameCounts.set(userName, (userNameCounts.get(userName) ?? 0) + 1);
  }

  const logs = await db.provisioningLog.findMany({
    where: { connectionId },
    select: {
      cycleId: true,
      action: true,
      status: true,
      objectType: true,
      sourceId: true,
      targetId: true,
      errorCode: true,
    },
  });
  const userLogs = logs.filter((entry) => entry.objectType === "User");
  const successBySource = new Set(
    userLogs
      .filter(
        (entry) => entry.status === "Success" && (entry.action === "Create" || entry.action === "Update"),
      )
      .map((entry) => entry.sourceId),
  );
  const successTargets = new Set(
    userLogs.filter((entry) => entry.status === "Success").map((entry) => entry.targetId),
  );
  const createsBySource = new Map<string, number>();
  for (const entry of userLogs)
    if (entry.action === "Create" && entry.status === "Success" && entry.sourceId)
      createsBySource.set(entry.sourceId, (createsBySource.get(entry.sourceId) ?? 0) + 1);

  const requests = sandbox.dialpad.requests.filter((request) => /\/Users(\/[^/]+)?$/.test(request.path));
  const writtenTargets = new Set<string>();
  let conflictResponses = 0;
  for (const request of requests) {
    if (request.method === "POST" && request.status === 409) conflictResponses += 1;
    if (request.status >= 300) continue;
    if (request.method === "POST") {
      const userName = (request.body as { userName?: unknown } | undefined)?.userName;
      const user =
        typeof userName === "string" ? sandbox.dialpad.company.findUserByUserName(userName) : undefined;
      if (user) writtenTargets.add(user.id);
    } else if (request.method === "PATCH" || request.method === "PUT") {
      writtenTargets.add(request.path.split("/").pop()!);
    }
  }

  const existsInDialpad = (sourceId: string | null) => {
    const upn = sourceId ? directory.getUser(sourceId)?.userPrincipalName : undefined;
    return upn !== undefined && userNameCounts.has(upn.toLowerCase());
  };
  const links = await db.objectLink.findMany({
    where: { connectionId, objectType: "User" },
    select: { sourceId: true },
  });
  const cycle = await db.cycle.findUniqueOrThrow({ where: { id: cycleId } });
  const units = await db.job.findMany({
    where: { cycleId, kind: "cycle-unit" },
    select: { status: true, payload: true, finishedAt: true },
  });
  const finalizers = await db.job.findMany({
    where: { cycleId, kind: "cycle-finalize" },
    select: { startedAt: true },
  });
  const lastUnitEnd = Math.max(0, ...units.map((unit) => unit.finishedAt?.getTime() ?? Infinity));
  const finalizedEarly = finalizers.some(
    (finalizer) => finalizer.startedAt !== null && finalizer.startedAt.getTime() < lastUnitEnd,
  );
  const plannedUserNames = new Set<string>();
  let usersPlannedTwice = 0;
  for (const unit of units) {
    const operations =
      (unit.payload as { input?: { operations?: { kind: string; resource?: { userName?: unknown } }[] } })
        .input?.operations ?? [];
    for (const operation of operations)
      if (
        (operation.kind === "create" || operation.kind === "update") &&
        typeof operation.resource?.userName === "string"
      ) {
        const userName = operation.resource.userName.toLowerCase();
        if (plannedUserNames.has(userName)) usersPlannedTwice += 1;
        plannedUserNames.add(userName);
      }
  }
  const unprocessedPlannedUsers = [...plannedUserNames].filter(
    (userName) => !userNameCounts.has(userName),
  ).length;
  const unitsNotSucceeded = units.filter((unit) => unit.status !== "succeeded").length;
  const cycleLogs = logs.filter((entry) => entry.cycleId === cycleId);
  const logCount = (action: string | null, status: string) =>
    cycleLogs.filter((entry) => (action === null || entry.action === action) && entry.status === status)
      .length;
  const counts = (cycle.counts ?? {}) as Record<string, number>;

  return {
    expectedUsers: expectedUserNames.length,
    inDialpad: expectedUserNames.filter((userName) => userNameCounts.has(userName)).length,
    dialpadUsers: dialpadUsers.length,
    duplicateUserNames: [...userNameCounts.values()].filter((count) => count > 1).length,
    conflictResponses,
    falseConflictFailures: userLogs.filter(
      (entry) =>
        entry.status === "Failure" && entry.errorCode === "EntryConflict" && existsInDialpad(entry.sourceId),
    ).length,
    failureLogs: logs.filter((entry) => entry.status === "Failure").length,
    repeatedCreateLogs: [...createsBySource.values()].filter((count) => count > 1).length,
    linksWithoutSuccessLog: links.filter((link) => !successBySource.has(link.sourceId)).length,
    writesWithoutLog: [...writtenTargets].filter((id) => !successTargets.has(id)).length,
    cycle: {
      status: cycle.status,
      totalUnits: cycle.totalUnits,
      completedUnits: cycle.completedUnits,
      failedUnits: cycle.failedUnits,
      cancelledUnits: cycle.cancelledUnits,
      unitsNotSucceeded,
      usersPlannedTwice,
      unitCountersTruthful:
        cycle.totalUnits === units.length &&
        cycle.completedUnits + cycle.failedUnits + cycle.cancelledUnits === cycle.totalUnits,
      finalizers: finalizers.length,
      finalizedEarly,
      unprocessedPlannedUsers,
      succeededWithUnprocessed:
        cycle.status === "succeeded" && (unprocessedPlannedUsers > 0 || unitsNotSucceeded > 0),
      counts,
    },
    countsVsLogs: {
      created: [counts.created ?? 0, logCount("Create", "Success")],
      updated: [counts.updated ?? 0, logCount("Update", "Success")],
      failed: [counts.failed ?? 0, logCount(null, "Failure")],
    },
  };
}

/** One line of numbers per scenario, for the run's output and the report to the lead. */
export function summarize(name: string, report: FaultReport): string {
  const { cycle } = report;
  return (
    `[fault] ${name}: users expected ${report.expectedUsers}, in Dialpad ${report.inDialpad} ` +
    `(total ${report.dialpadUsers}), duplicates ${report.duplicateUserNames}, 409s ${report.conflictResponses}, ` +
    `false EntryConflict failures ${report.falseConflictFailures}, failure logs ${report.failureLogs}, ` +
    `repeated creates ${report.repeatedCreateLogs}, links without log ${report.linksWithoutSuccessLog}, ` +
    `writes without log ${report.writesWithoutLog}; cycle ${cycle.status} units ${cycle.completedUnits}/` +
    `${cycle.totalUnits} (failed ${cycle.failedUnits}, cancelled ${cycle.cancelledUnits}, not succeeded ` +
    `${cycle.unitsNotSucceeded}), users planned twice ${cycle.usersPlannedTwice}, unit counters truthful ${cycle.unitCountersTruthful}, ` +
    `finalizers ${cycle.finalizers}${cycle.finalizedEarly ? " (one ran early)" : ""}, planned users not in Dialpad ${cycle.unprocessedPlannedUsers}; ` +
    `counts vs log: created ${report.countsVsLogs.created.join("/")}, updated ` +
    `${report.countsVsLogs.updated.join("/")}, failed ${report.countsVsLogs.failed.join("/")}`
  );
}

/**
 * What the engine owes the admin after any fault, once the cycle has ended: the directory is in Dialpad
 * exactly once, nothing failed falsely, every change is in the log, and the cycle's status and counts
 * tell the truth. Compared as one object so a failure shows every number at once.
 */
export function expectConverged(report: FaultReport): void {
  const [created, updated, failed] = [
    report.countsVsLogs.created,
    report.countsVsLogs.updated,
    report.countsVsLogs.failed,
  ];
  expect({
    inDialpad: report.inDialpad,
    dialpadUsers: report.dialpadUsers,
    duplicateUserNames: report.duplicateUserNames,
    conflictResponses: report.conflictResponses,
    falseConflictFailures: report.falseConflictFailures,
    failureLogs: report.failureLogs,
    repeatedCreateLogs: report.repeatedCreateLogs,
    linksWithoutSuccessLog: report.linksWithoutSuccessLog,
    writesWithoutLog: report.writesWithoutLog,
    cycleStatus: report.cycle.status,
    unitsNotSucceeded: report.cycle.unitsNotSucceeded,
    usersPlannedTwice: report.cycle.usersPlannedTwice,
    unitCountersTruthful: report.cycle.unitCountersTruthful,
    finalizers: report.cycle.finalizers,
    finalizedEarly: report.cycle.finalizedEarly,
    succeededWithUnprocessed: report.cycle.succeededWithUnprocessed,
    createdCountMatchesLog: created[0] === created[1],
    updatedCountMatchesLog: updated[0] === updated[1],
    failedCountMatchesLog: failed[0] === failed[1],
  }).toEqual({
    inDialpad: report.expectedUsers,
    dialpadUsers: report.expectedUsers,
    duplicateUserNames: 0,
    conflictResponses: 0,
    falseConflictFailures: 0,
    failureLogs: 0,
    repeatedCreateLogs: 0,
    linksWithoutSuccessLog: 0,
    writesWithoutLog: 0,
    cycleStatus: "succeeded",
    unitsNotSucceeded: 0,
    usersPlannedTwice: 0,
    unitCountersTruthful: true,
    finalizers: report.cycle.totalUnits > 0 ? 1 : 0,
    finalizedEarly: false,
    succeededWithUnprocessed: false,
    createdCountMatchesLog: true,
    updatedCountMatchesLog: true,
    failedCountMatchesLog: true,
  });
}
