import type { PrismaClient, ReconcileFinding } from "../db/generated/client";
import type { PlannedChange } from "../contracts/reconcile";
import type { SecretBox } from "../crypto/secrets";
import type { PlannedMembership } from "../sync/plan";
import { emptyCounts, executeMembership, linksForMemberships, membershipPatches } from "../sync/execute";
import { getConnection } from "./connections";
import { prismaCycleStore } from "./cycle-store";
import { scimClientFor } from "./peers";
import { SharedRequestBudget } from "./request-budget";

/**
 * Re-applying a drifted group, as previewed: attributes go through provisioning on demand (the group
 * pipeline PATCHes what the mappings want), members through the cycle's own member executor (the same
 * PATCHes of at most 100 members, the membership records and a provisioning log entry). Members Dialpad
 * has that no Entra user is linked to are reported, never removed: nobody manages them here.
 */

export interface GroupReapplyPlan {
  planned: PlannedChange[];
  /** Groups whose attributes drifted: provisioned on demand. */
  groupsOnDemand: { sourceId: string; item: PlannedChange }[];
  memberships: { membership: PlannedMembership; items: PlannedChange[] }[];
}

export function planGroupReapply(findings: readonly ReconcileFinding[]): GroupReapplyPlan {
  const plan: GroupReapplyPlan = { planned: [], groupsOnDemand: [], memberships: [] };
  const byGroup = new Map<string, ReconcileFinding[]>();
  for (const finding of findings) {
    if (!finding.targetId || !finding.sourceId || finding.attribute === "(mapping)") continue;
    byGroup.set(finding.targetId, [...(byGroup.get(finding.targetId) ?? []), finding]);
  }
  for (const [targetId, ofGroup] of byGroup) {
    const first = ofGroup[0]!;
    const base = {
      findingId: first.seq.toString(),
      targetId,
      targetName: first.targetName,
      sourceId: first.sourceId,
    };
    const attributes = ofGroup.filter((finding) => finding.attribute !== "members");
    if (attributes.length) {
      const item: PlannedChange = {
        ...base,
        request: {
          method: "PATCH",
          path: `/Groups/${targetId}`,
          operations: attributes.map((finding) =>
            finding.desiredValue === null
              ? { op: "remove", path: finding.attribute! }
              : { op: "replace", path: finding.attribute!, value: finding.desiredValue as never },
          ),
        },
        changes: attributes.map((finding) => ({
          attribute: finding.attribute!,
          from: finding.dialpadValue,
          to: finding.desiredValue,
        })),
      };
      plan.planned.push(item);
      plan.groupsOnDemand.push({ sourceId: first.sourceId!, item });
    }
    const member = (finding: ReconcileFinding) => ({
      userTargetId: finding.memberTargetId!,
      userSourceId: finding.memberSourceId!,
      name: (finding.desiredValue ?? finding.dialpadValue) as string | null,
    });
    // Only managed members: an unmanaged one has no Entra user to add or remove it as.
    const managed = ofGroup.filter(
      (finding) => finding.attribute === "members" && finding.memberTargetId && finding.memberSourceId,
    );
    const toAdd = managed.filter((finding) => finding.dialpadValue === null).map(member);
    const toRemove = managed.filter((finding) => finding.dialpadValue !== null).map(member);
    if (!toAdd.length && !toRemove.length) continue;
    const items = membershipPatches(toAdd, toRemove).map((patch): PlannedChange => ({
      ...base,
      request: { method: "PATCH", path: `/Groups/${targetId}`, operations: patch.operations },
      changes: patch.members.map((one) => ({
        attribute: "members",
        from: patch.kind === "add" ? null : one.name,
        to: patch.kind === "add" ? one.name : null,
      })),
    }));
    plan.planned.push(...items);
    plan.memberships.push({
      membership: {
        groupSourceId: first.sourceId!,
        displayName: first.sourceName ?? first.targetName,
        add: toAdd.map((one) => one.userSourceId),
        remove: toRemove.map((one) => one.userSourceId),
      },
      items,
    });
  }
  return plan;
}

/** Sends the planned member changes and logs each group's; returns how many groups succeeded or failed. */
export async function applyGroupMembers(
  db: PrismaClient,
  box: SecretBox,
  connectionId: string,
  memberships: GroupReapplyPlan["memberships"],
  initiatedBy: string,
): Promise<{ succeeded: number; failed: number; failures: string[] }> {
  const tally = { succeeded: 0, failed: 0, failures: [] as string[] };
  if (!memberships.length) return tally;
  const connection = await getConnection(db, connectionId);
  const store = prismaCycleStore(db, { connectionId, cycleId: null, jobId: null, initiatedBy });
  const scim = await scimClientFor(connection, box, {
    limiter: new SharedRequestBudget({ db, connectionId }),
  });
  for (const { membership } of memberships) {
    const name = membership.displayName ?? membership.groupSourceId;
    try {
      const links = await linksForMemberships(store, [membership]);
      const entry = await executeMembership({ scim, store }, membership, links, emptyCounts(), undefined);
      if (entry) await store.writeLogs([entry]);
      if (!entry || entry.status === "Failure") {
        tally.failed += 1;
        tally.failures.push(`${name}: ${entry?.errorReason ?? "the group is not linked any more"}`);
      } else tally.succeeded += 1;
    } catch (error) {
      tally.failed += 1;
      tally.failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return tally;
}
