import { recordCycleError } from "../cycle/state";
import crypto from "node:crypto";
import { type PrismaClient } from "../db/generated/client";
import { SecretBox } from "../crypto/secrets";
import { eq, type ScimClient } from "../scim";
import type { CycleLogEntry } from "../sync/cycle-ports";
import { QuarantineException } from "../sync/decide";
import { addCounts, emptyCounts, executeUnit, type CycleCounts } from "../sync/execute";
import { loadRefusalRegistry } from "./refused-attributes";
import type { PlannedOperation } from "../sync/plan";
import { getConnection } from "./connections";
import { prismaCycleStore, writerFor } from "./cycle-store";
import { loadMappingConfig } from "./mappings";
import { type RunCycleOptions, cycleScimClient } from "./cycle-peers";

/** One cycle unit on whichever worker claimed it, and the recovery of what an earlier attempt of it did. */

/**
 * A unit (or a finalizer's slice of groups) run again after an earlier attempt stopped (its worker died,
 * drained, froze past its lease) must neither redo nor lose what that attempt did. Objects the earlier attempt logged are not run again,
 * and count as the log says. A create it did not log may still have reached Dialpad (the POST succeeded
 * but its answer, link or log was lost): such a user or group is found (linked since the cycle began, or
 * by its userName or displayName, which Dialpad keeps unique) and adopted with the Create entry the
 * earlier attempt could not write, instead of being POSTed again into a 409.
 */
export async function recoverEarlierAttempt(
  db: PrismaClient,
  store: ReturnType<typeof prismaCycleStore>,
  scim: ScimClient,
  connectionId: string,
  cycleId: string,
  operations: PlannedOperation[],
): Promise<{ remaining: PlannedOperation[]; counts: CycleCounts }> {
  const counts = emptyCounts();
  const cycle = await db.cycle.findUniqueOrThrow({ where: { id: cycleId }, select: { startedAt: true } });
  const key = (objectType: string, sourceId: string | null) => `${objectType}:${sourceId}`;
  const logged = await db.provisioningLog.findMany({
    where: { cycleId, sourceId: { in: operations.map((op) => op.sourceId) } },
    select: { objectType: true, sourceId: true, action: true, status: true },
  });
  const loggedKeys = new Set<string>();
  for (const entry of logged) {
    if (loggedKeys.has(key(entry.objectType, entry.sourceId))) continue;
    loggedKeys.add(key(entry.objectType, entry.sourceId));
    countLogged(counts, entry);
  }
  const notLogged = operations.filter((op) => !loggedKeys.has(key(op.objectType, op.sourceId)));
  const creates = notLogged.filter((op) => op.kind === "create");
  const linked = creates.length
    ? await db.objectLink.findMany({
        where: {
          connectionId,
          objectType: { in: ["User", "Group"] },
          sourceId: { in: creates.map((op) => op.sourceId) },
          lastExportedAt: { gte: cycle.startedAt },
        },
        select: { objectType: true, sourceId: true, targetId: true },
      })
    : [];
  const linkedTarget = new Map(linked.map((row) => [key(row.objectType, row.sourceId), row.targetId]));
  const adopted = new Set<string>();
  const entries: CycleLogEntry[] = [];
  for (const op of creates) {
    let targetId = linkedTarget.get(key(op.objectType, op.sourceId)) ?? null;
    if (!targetId) {
      // Not linked: the POST may still have reached Dialpad. Look before creating again.
      const found = await findCreated(scim, op);
      if (found.length !== 1) continue;
      targetId = found[0]!.id;
      await store.saveLink({
        objectType: op.objectType,
        sourceId: op.sourceId,
        targetId,
        displayName: op.displayName,
        exportedHash: op.link?.exportedHash ?? null,
        active: true,
      });
    }
    adopted.add(key(op.objectType, op.sourceId));
    counts.created += 1;
    counts.countExported += 1;
    entries.push({
      changeId: crypto.randomUUID(),
      action: "Create",
      status: "Success",
      objectType: op.objectType,
      sourceId: op.sourceId,
      sourceDisplayName: op.displayName,
      targetId,
      targetDisplayName: op.displayName,
      modifiedProperties: op.modifiedProperties,
      steps: [
        ...op.steps,
        {
          name: "EntryExportAdd",
          type: "Export",
          status: "success",
          description: `Created in Dialpad (id ${targetId}) by an earlier attempt whose worker stopped before recording it`,
          timestamp: new Date().toISOString(),
          details: {},
        },
      ],
      durationMs: 0,
    });
  }
  if (entries.length) await store.writeLogs(entries);
  return {
    remaining: notLogged.filter(
      (op) => !(op.kind === "create" && adopted.has(key(op.objectType, op.sourceId))),
    ),
    counts,
  };
}

/** The Dialpad object a create may have made already, by the attribute Dialpad keeps unique. */
async function findCreated(scim: ScimClient, op: PlannedOperation): Promise<{ id: string }[]> {
  const attribute = op.objectType === "User" ? "userName" : "displayName";
  const value = op.resource?.[attribute];
  if (typeof value !== "string") return [];
  return op.objectType === "User"
    ? scim.findUsers(eq(attribute, value))
    : scim.findGroups(eq(attribute, value));
}

/** What an earlier attempt's log entry counts for, as executeUnit would have counted it. */
function countLogged(counts: CycleCounts, entry: { action: string; status: string }) {
  if (entry.status === "Failure") {
    counts.failed += 1;
    counts.countEscrowed += 1;
    return;
  }
  if (entry.status === "Skipped" || entry.action === "Other" || entry.action === "StagedDelete") {
    counts.skipped += 1;
    return;
  }
  const column = ({ Create: "created", Update: "updated", Disable: "disabled", Delete: "deleted" } as const)[
    entry.action as "Create" | "Update" | "Disable" | "Delete"
  ];
  if (column) counts[column] += 1;
  counts.countExported += 1;
}

/**
 * One cycle unit: a page of the planned user operations, on whichever worker claimed it, through the
 * connection's shared request budget. Stops before the next object once Stop was requested or another
 * unit hit a quarantine condition (that condition is recorded on the Cycle for the finalizer), or when
 * this attempt is asked to stop (drain) or may have lost its lease: then what it did is recorded and it
 * ends without completing, so the unit runs again and picks up where it stopped.
 */
export async function runCycleUnit(
  db: PrismaClient,
  box: SecretBox,
  input: {
    connectionId: string;
    cycleId: string;
    jobId: string;
    /** An earlier attempt of this unit ran (and may have done part of it). */
    rerun: boolean;
    workerId: string;
    operations: PlannedOperation[];
  },
  options: RunCycleOptions = {},
): Promise<{ counts: CycleCounts; executed: number; stopped: boolean; workerId: string }> {
  const connection = await getConnection(db, input.connectionId);
  const { lease, signal } = options;
  let operations = input.operations;
  const base = prismaCycleStore(
    db,
    { connectionId: connection.id, cycleId: input.cycleId, jobId: input.jobId },
    lease,
  );
  const scim = await cycleScimClient(db, connection, box, options);
  let recovered = emptyCounts();
  if (input.rerun) {
    const earlier = await recoverEarlierAttempt(db, base, scim, connection.id, input.cycleId, operations);
    operations = earlier.remaining;
    recovered = earlier.counts;
  }

  const interrupted = () => signal?.aborted === true || (lease !== undefined && !lease.held);
  const store = {
    ...base,
    async stopRequested() {
      if (interrupted()) return true;
      const [row] = await db.$queryRaw<{ stop: boolean }[]>`
        SELECT ("stopRequested" OR status <> 'running' OR error IS NOT NULL) AS stop
        FROM "Cycle" WHERE id = ${input.cycleId}::uuid`;
      return row?.stop ?? true;
    },
  };
  try {
    const refusals = await loadRefusalRegistry(db, connection.id, loadMappingConfig(connection.mappings), {
      write: writerFor(db, lease),
    });
    const result = await executeUnit({ scim, store, refusals, mayWrite: () => !interrupted() }, operations);
    // Interrupted: not done. The job is handed back (drain) or taken over (lease), and runs again.
    lease?.assertHeld();
    if (signal?.aborted) throw signal.reason ?? new Error("unit interrupted");
    return { ...result, counts: addCounts(result.counts, recovered), workerId: input.workerId };
  } catch (error) {
    if (!(error instanceof QuarantineException)) throw error;
    const errorJson = {
      code: error.errorCode,
      message: error.message,
      system: error.system,
      quarantine: true,
    };
    await writerFor(db, lease)((tx) => recordCycleError(tx, input.cycleId, errorJson));
    return { counts: emptyCounts(), executed: 0, stopped: true, workerId: input.workerId };
  }
}
