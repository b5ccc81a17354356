import crypto from "node:crypto";
import type { PrismaClient, ReconcileFinding } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import {
  RECONCILE_ACTIONS,
  ZReconcileActionRequest,
  type PlannedChange,
  type ReconcileAction,
  type ReconcileActionRequest,
  type ReconcileActionResult,
} from "../contracts/reconcile";
import type { SecretBox } from "../crypto/secrets";
import { enqueueJob } from "../jobs/store";
import { waitForJob } from "../jobs/wait";
import type { ScimPatchOperation } from "../scim";
import { isScimError } from "../scim/errors";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError } from "./errors";
import { onDemandJob } from "./on-demand";
import { adoptOrphan, writeActionLog, type ApplyTally } from "./reconcile-adopt";
import { applyGroupMembers, planGroupReapply } from "./reconcile-group-actions";
import { scimClientFor } from "./peers";
import { SharedRequestBudget } from "./request-budget";

/**
 * What an admin can do about a reconcile report, each previewed first (`dryRun: true` answers exactly
 * the requests the apply would send) and audited when applied:
 * - suspendOrphans: PATCH active=false on orphan Dialpad users (never a delete); more than the
 *   connection's deletion threshold, or any number when approval is required, needs `confirm: true`.
 * - reapplyDrift: provision the drifted users (and groups whose attributes drifted) on demand (the
 *   normal per-object pipeline, which logs each change), so Dialpad gets the desired values back; a
 *   group's drifted members are added or removed with the cycle's member PATCHes
 *   (lib/server/reconcile-group-actions.ts).
 * - recreateMissing: provision the missing users on demand: the link's Dialpad user is gone, so the
 *   pipeline matches the user again or creates it.
 * - adoptOrphan: link an orphan to an Entra user (the colliding one, or one the admin names); the next
 *   cycle then updates it instead of creating a second account.
 */

export {
  RECONCILE_ACTIONS,
  ZReconcileActionRequest,
  type PlannedChange,
  type ReconcileAction,
  type ReconcileActionRequest,
  type ReconcileActionResult,
};

/** One request's worth: on-demand runs wait for a worker each, so a bigger re-apply is a cycle's job. */
const MAX_REAPPLY = 100;

const SUSPEND: ScimPatchOperation[] = [{ op: "replace", path: "active", value: false }];

export async function runReconcileAction(
  db: PrismaClient,
  box: SecretBox,
  connectionId: string,
  request: ReconcileActionRequest,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<ReconcileActionResult> {
  const connection = await getConnection(db, connectionId);
  const run = await db.reconcileRun.findFirst({
    where: { connectionId: connection.id, status: "succeeded" },
    orderBy: { createdAt: "desc" },
  });
  if (!run) throw new AppError("conflict", "Run a reconcile report first: actions work on its findings.");
  const findings = await db.reconcileFinding.findMany({
    where: {
      runId: run.id,
      // Only users can be suspended; every other action works on groups too.
      ...(request.action === "suspendOrphans" ? { objectType: "User" } : {}),
      ...(request.findingIds ? { seq: { in: request.findingIds.map((id) => BigInt(id)) } } : {}),
      ...(request.action === "reapplyDrift"
        ? { category: { in: ["drifted", "suspendedInDialpad"] } }
        : request.action === "recreateMissing"
          ? { category: "missing", sourceId: { not: null } }
          : { category: "orphan", ...(request.action === "suspendOrphans" ? { targetActive: true } : {}) }),
    },
    orderBy: { seq: "asc" },
  });
  if (request.findingIds && findings.length === 0)
    throw new AppError("validation_failed", "None of these findings can take this action.");
  const base = { action: request.action, dryRun: request.dryRun, runId: run.id };
  if (request.action === "suspendOrphans") {
    const planned = findings.map((finding) =>
      change(finding, SUSPEND, [{ attribute: "active", from: true, to: false }]),
    );
    const limit = connection.requireApprovalForDeletions
      ? 0
      : connection.preventAccidentalDeletes
        ? connection.deletionThreshold
        : null;
    const needsConfirmation = limit !== null && planned.length > limit;
    const result: ReconcileActionResult = {
      ...base,
      summary: `Suspend ${planned.length} Dialpad user${planned.length === 1 ? "" : "s"} (active=false; nothing is deleted)`,
      planned,
      threshold: { limit, needsConfirmation },
      applied: null,
    };
    if (request.dryRun) return result;
    if (needsConfirmation && !request.confirm) {
      throw new AppError(
        "conflict",
        connection.requireApprovalForDeletions
          ? `Suspending ${planned.length} users needs explicit approval (the connection requires approval for deletions): send confirm: true.`
          : `Suspending ${planned.length} users exceeds the deletion threshold of ${limit}: send confirm: true to suspend them anyway.`,
      );
    }
    return { ...result, applied: await suspend(db, box, connection.id, planned, findings, principal) };
  }
  if (request.action === "reapplyDrift") {
    const users = userDrift(findings.filter((finding) => finding.objectType === "User"));
    const groups = planGroupReapply(findings.filter((finding) => finding.objectType === "Group"));
    const planned = [...users, ...groups.planned];
    if (request.findingIds && planned.length === 0)
      throw new AppError(
        "validation_failed",
        "None of these findings can be re-applied (members nobody manages are removed in Dialpad).",
      );
    if (planned.length > MAX_REAPPLY && !request.dryRun)
      throw new AppError(
        "validation_failed",
        `Re-apply at most ${MAX_REAPPLY} changes at a time (pick findings), or let the next full cycle do it.`,
      );
    const groupCount = new Set(groups.planned.map((item) => item.targetId)).size;
    const result: ReconcileActionResult = {
      ...base,
      summary: `Re-apply the desired values to ${[
        users.length || !groupCount ? plural(users.length, "drifted Dialpad user") : null,
        groupCount ? plural(groupCount, "drifted Dialpad group") : null,
      ]
        .filter(Boolean)
        .join(" and ")}`,
      planned,
      threshold: null,
      applied: null,
    };
    if (request.dryRun) return result;
    const onDemand = await reapply(
      db,
      connection.id,
      [
        ...users.map((item) => ({
          item,
          subject: { objectId: item.sourceId!, objectTypeName: "User" as const },
        })),
        ...groups.groupsOnDemand.map(({ sourceId, item }) => ({
          item,
          subject: { objectId: sourceId, objectTypeName: "Group" as const },
        })),
      ],
      principal,
      "Re-apply desired values",
    );
    const members = await applyGroupMembers(db, box, connection.id, groups.memberships, principal.upn);
    return {
      ...result,
      applied: {
        succeeded: onDemand.succeeded + members.succeeded,
        failed: onDemand.failed + members.failed,
        skipped: onDemand.skipped,
        failures: [...onDemand.failures, ...members.failures],
      },
    };
  }
  if (request.action === "recreateMissing") {
    const planned = findings.map((finding) =>
      change(finding, null, [{ attribute: "account", from: null, to: "matched again or created" }]),
    );
    if (planned.length > MAX_REAPPLY && !request.dryRun)
      throw new AppError(
        "validation_failed",
        `Recreate at most ${MAX_REAPPLY} objects at a time (pick findings).`,
      );
    const groups = findings.filter((finding) => finding.objectType === "Group").length;
    const result: ReconcileActionResult = {
      ...base,
      summary: `Recreate ${[
        findings.length - groups || !groups ? plural(findings.length - groups, "missing Dialpad user") : null,
        groups ? plural(groups, "missing Dialpad group") : null,
      ]
        .filter(Boolean)
        .join(" and ")} (provision on demand)`,
      planned,
      threshold: null,
      applied: null,
    };
    if (request.dryRun) return result;
    return {
      ...result,
      applied: await reapply(
        db,
        connection.id,
        planned.map((item, index) => ({
          item,
          subject: {
            objectId: item.sourceId!,
            objectTypeName: findings[index]!.objectType === "Group" ? ("Group" as const) : ("User" as const),
          },
        })),
        principal,
        "Recreate missing objects",
      ),
    };
  }
  const [orphan] = findings;
  if (!orphan || findings.length !== 1)
    throw new AppError("validation_failed", "Adopt one orphan at a time: give its finding id.");
  const sourceId = request.sourceId ?? orphan.sourceId;
  if (!sourceId)
    throw new AppError(
      "validation_failed",
      `No Entra ${orphan.objectType === "Group" ? "group" : "user"} matches this orphan: name one with sourceId.`,
    );
  const planned = [
    {
      ...change(orphan, null, [{ attribute: "link", from: null, to: sourceId }]),
      sourceId,
    },
  ];
  const result: ReconcileActionResult = {
    ...base,
    summary:
      orphan.objectType === "Group"
        ? `Link Dialpad group ${orphan.targetName ?? orphan.targetId} to Entra group ${sourceId}`
        : `Link Dialpad user ${orphan.targetName ?? orphan.targetId} to Entra user ${sourceId}`,
    planned,
    threshold: null,
    applied: null,
  };
  if (request.dryRun) return result;
  return { ...result, applied: await adoptOrphan(db, connection.id, orphan, sourceId, principal) };
}

function change(
  finding: ReconcileFinding,
  operations: ScimPatchOperation[] | null,
  changes: PlannedChange["changes"],
): PlannedChange {
  const targetId = finding.targetId ?? "";
  return {
    findingId: finding.seq.toString(),
    targetId,
    targetName: finding.targetName,
    sourceId: finding.sourceId,
    request: operations ? { method: "PATCH", path: `/Users/${targetId}`, operations } : null,
    changes,
  };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** One planned change per drifted user, with each drifted attribute replaced by its desired value. */
function userDrift(findings: ReconcileFinding[]): PlannedChange[] {
  const byTarget = new Map<string, PlannedChange>();
  for (const finding of findings) {
    if (!finding.targetId || !finding.sourceId || finding.attribute === "(mapping)") continue;
    const planned = byTarget.get(finding.targetId) ?? change(finding, [], []);
    const operations = planned.request!.operations;
    if (finding.category === "suspendedInDialpad") {
      operations.push({ op: "replace", path: "active", value: true });
      planned.changes.push({ attribute: "active", from: false, to: true });
    } else {
      operations.push(
        finding.desiredValue === null
          ? { op: "remove", path: finding.attribute! }
          : { op: "replace", path: finding.attribute!, value: finding.desiredValue as never },
      );
      planned.changes.push({
        attribute: finding.attribute!,
        from: finding.dialpadValue,
        to: finding.desiredValue,
      });
    }
    byTarget.set(finding.targetId, planned);
  }
  return [...byTarget.values()];
}

async function suspend(
  db: PrismaClient,
  box: SecretBox,
  connectionId: string,
  planned: PlannedChange[],
  findings: ReconcileFinding[],
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<ApplyTally> {
  const connection = await getConnection(db, connectionId);
  const scim = await scimClientFor(connection, box, {
    limiter: new SharedRequestBudget({ db, connectionId }),
  });
  const tally: ApplyTally = { succeeded: 0, failed: 0, skipped: 0, failures: [] };
  const changeId = crypto.randomUUID();
  for (const [index, item] of planned.entries()) {
    const finding = findings[index]!;
    // A cycle may have linked it since the report: then it is managed, not an orphan.
    const linked = await db.objectLink.findFirst({
      where: { connectionId, objectType: "User", targetId: item.targetId },
      select: { sourceId: true },
    });
    if (linked) {
      tally.skipped += 1;
      continue;
    }
    const started = Date.now();
    try {
      await scim.patchUser(item.targetId, SUSPEND);
      tally.succeeded += 1;
      await db.reconcileFinding.update({ where: { seq: finding.seq }, data: { targetActive: false } });
      await writeActionLog(db, connectionId, changeId, principal, item, {
        action: "Disable",
        status: "Success",
        description: `Suspended orphan Dialpad user ${item.targetName ?? item.targetId} (reconcile action)`,
        durationMs: Date.now() - started,
      });
    } catch (error) {
      tally.failed += 1;
      const reason = isScimError(error) ? `${error.code}: ${error.detail}` : String(error);
      tally.failures.push(`${item.targetName ?? item.targetId}: ${reason}`);
      await writeActionLog(db, connectionId, changeId, principal, item, {
        action: "Disable",
        status: "Failure",
        description: `Suspending orphan Dialpad user ${item.targetName ?? item.targetId} failed`,
        durationMs: Date.now() - started,
        errorReason: reason.slice(0, 2000),
      });
    }
  }
  await recordAudit(db, {
    connectionId,
    activity: "Reconcile action",
    principal,
    result: tally.failed ? "failure" : "success",
    changes: {
      action: { before: null, after: "Suspend orphans" },
      suspended: { before: null, after: tally.succeeded },
      failed: { before: null, after: tally.failed },
    },
  });
  return tally;
}

/** Provisions each subject on demand (its own job and log entry) and waits for all of them. */
async function reapply(
  db: PrismaClient,
  connectionId: string,
  planned: { item: PlannedChange; subject: { objectId: string; objectTypeName: "User" | "Group" } }[],
  principal: Pick<Principal, "objectId" | "upn">,
  activity: string,
): Promise<ApplyTally> {
  const tally: ApplyTally = { succeeded: 0, failed: 0, skipped: 0, failures: [] };
  const jobs = [];
  for (const { item, subject } of planned) {
    const { job } = await enqueueJob(
      db,
      onDemandJob,
      { connectionId, subjects: [subject], initiatedBy: principal.upn },
      { connectionId, priority: 100, maxAttempts: 1 },
    );
    jobs.push({ item, jobId: job.id });
  }
  for (const { item, jobId } of jobs) {
    const finished = await waitForJob(db, jobId, { timeoutMs: 90_000 });
    const result = (
      finished.result as { results?: { status?: string; statusInfo?: { reason?: string } }[] } | null
    )?.results?.[0];
    if (finished.status === "succeeded" && result?.status === "Success") tally.succeeded += 1;
    else {
      tally.failed += 1;
      tally.failures.push(
        `${item.targetName ?? item.targetId}: ${result?.statusInfo?.reason ?? finished.lastError ?? finished.status}`,
      );
    }
  }
  await recordAudit(db, {
    connectionId,
    activity: "Reconcile action",
    principal,
    result: tally.failed ? "failure" : "success",
    changes: {
      action: { before: null, after: activity },
      objects: { before: null, after: planned.length },
      failed: { before: null, after: tally.failed },
    },
  });
  return tally;
}
