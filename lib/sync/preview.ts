import crypto from "node:crypto";
import type { ModifiedProperty } from "./on-demand-types";
import type { PlannedMembership, PlannedOperation } from "./plan";

/** Log error code of an operation that was not applied because it differs from the approved preview. */
export const NOT_IN_PREVIEW = "NotInApprovedPreview";

const ACTIONABLE = new Set<PlannedOperation["kind"]>(["create", "update", "disable", "delete"]);

export function isActionable(operation: Pick<PlannedOperation, "kind">): boolean {
  return ACTIONABLE.has(operation.kind);
}

/**
 * Identifies an operation by exactly what it would send: a changed source value changes the create body
 * or the PATCH, so it changes the fingerprint, and applying a preview then skips it instead of sending
 * something the admin never saw.
 */
export function operationFingerprint(
  operation: Pick<
    PlannedOperation,
    "kind" | "objectType" | "sourceId" | "targetId" | "operations" | "resource"
  >,
): string {
  const sent = {
    kind: operation.kind,
    objectType: operation.objectType,
    sourceId: operation.sourceId,
    targetId: operation.kind === "create" ? null : operation.targetId,
    operations: operation.operations ?? null,
    resource: operation.resource ?? null,
  };
  return crypto.createHash("sha256").update(stableJson(sent)).digest("base64url").slice(0, 22);
}

/** One key per member added or removed, so a preview approves membership changes member by member. */
export function membershipKeys(membership: PlannedMembership): string[] {
  return [
    ...membership.add.map((userId) => `${membership.groupSourceId}|add|${userId}`),
    ...membership.remove.map((userId) => `${membership.groupSourceId}|remove|${userId}`),
  ];
}

/**
 * Applying a preview: what the plan of now would do, limited to what the admin approved. Operations that
 * are new or differ from the preview become skips with the reason (logged, links untouched), so the next
 * regular cycle plans them again and nothing unseen is sent.
 */
export function restrictToApproved(
  plan: readonly PlannedOperation[],
  approved: ReadonlySet<string>,
): { plan: PlannedOperation[]; notApproved: PlannedOperation[] } {
  const notApproved: PlannedOperation[] = [];
  const restricted = plan.map((operation): PlannedOperation => {
    if (!isActionable(operation) || approved.has(operationFingerprint(operation))) return operation;
    notApproved.push(operation);
    const reason =
      "Not applied: this change is not in the approved preview (the source or Dialpad changed after the preview). The next cycle plans it again.";
    return {
      ...operation,
      kind: "skip",
      action: "Other",
      reason,
      operations: undefined,
      resource: undefined,
      link: undefined,
      log: true,
      statusInfo: {
        errorCode: NOT_IN_PREVIEW,
        errorCategory: "nonServiceFailure",
        reason,
        recommendedAction: "Preview the next cycle again to review this change.",
      },
    };
  });
  return { plan: restricted, notApproved };
}

export function restrictMembershipsToApproved(
  memberships: readonly PlannedMembership[],
  approved: ReadonlySet<string>,
): { memberships: PlannedMembership[]; notApproved: number } {
  let notApproved = 0;
  const restricted: PlannedMembership[] = [];
  for (const membership of memberships) {
    const keep = (change: "add" | "remove") => (userId: string) => {
      const ok = approved.has(`${membership.groupSourceId}|${change}|${userId}`);
      if (!ok) notApproved += 1;
      return ok;
    };
    const add = membership.add.filter(keep("add"));
    const remove = membership.remove.filter(keep("remove"));
    if (add.length || remove.length) restricted.push({ ...membership, add, remove });
  }
  return { memberships: restricted, notApproved };
}

/** A previewed operation as stored and shown: what it does, to whom, and each attribute old → new. */
export interface PreviewOperation {
  fingerprint: string;
  kind: PlannedOperation["kind"];
  action: PlannedOperation["action"];
  objectType: PlannedOperation["objectType"];
  sourceId: string;
  displayName: string | null;
  targetId: string | null;
  reason: string;
  modifiedProperties: ModifiedProperty[];
  /** Dialpad office a new user lands in, per its mapped office attribute (null: none mapped). */
  office?: string | null;
  renameRefused?: string;
  errorCode?: string;
}

export function toPreviewOperation(operation: PlannedOperation): PreviewOperation {
  return {
    fingerprint: operationFingerprint(operation),
    kind: operation.kind,
    action: operation.action,
    objectType: operation.objectType,
    sourceId: operation.sourceId,
    displayName: operation.displayName,
    targetId: operation.targetId,
    reason: operation.reason,
    modifiedProperties: operation.modifiedProperties,
    ...(operation.kind === "create" && operation.objectType === "User"
      ? { office: officeOf(operation.resource) }
      : {}),
    ...(operation.renameRefused !== undefined ? { renameRefused: operation.renameRefused } : {}),
    ...(operation.statusInfo?.errorCode ? { errorCode: operation.statusInfo.errorCode } : {}),
  };
}

/** Dialpad places a new user by the enterprise extension's officeName (Dialpad's SCIM FAQ). */
function officeOf(resource: PlannedOperation["resource"]): string | null {
  if (!resource) return null;
  for (const [key, value] of Object.entries(resource)) {
    if (!key.toLowerCase().startsWith("urn:") || typeof value !== "object" || value === null) continue;
    const office = (value as Record<string, unknown>).officeName;
    if (typeof office === "string" && office.trim()) return office;
  }
  const top = (resource as Record<string, unknown>).officeName;
  return typeof top === "string" && top.trim() ? top : null;
}

export interface PreviewImpact {
  counts: Record<"create" | "update" | "disable" | "delete" | "fail", { users: number; groups: number }>;
  memberships: { added: number; removed: number; groups: number };
  /** Licences the plan would take: new users plus users enabled again. */
  newSeats: number;
  /** New users per Dialpad office they land in ("" = no office mapped). */
  officesOfNewUsers: Record<string, number>;
  groupRenamesNotApplied: { sourceId: string; displayName: string | null; newName: string }[];
  disablesOrDeletes: number;
}

export function previewImpact(
  operations: readonly PreviewOperation[],
  memberships: readonly PlannedMembership[],
  reenabledUsers: number,
): PreviewImpact {
  const tally = createImpactTally();
  for (const operation of operations) tally.add(operation);
  return tally.result(memberships, reenabledUsers);
}

/** previewImpact a page at a time, for a plan that is written as it is planned. */
export function createImpactTally() {
  const empty = () => ({ users: 0, groups: 0 });
  const counts: PreviewImpact["counts"] = {
    create: empty(),
    update: empty(),
    disable: empty(),
    delete: empty(),
    fail: empty(),
  };
  const officesOfNewUsers: Record<string, number> = {};
  const groupRenamesNotApplied: PreviewImpact["groupRenamesNotApplied"] = [];
  const count = (operation: PreviewOperation, by: 1 | -1) => {
    if (operation.kind !== "skip")
      counts[operation.kind][operation.objectType === "User" ? "users" : "groups"] += by;
    if (operation.kind === "create" && operation.objectType === "User") {
      const office = operation.office ?? "";
      officesOfNewUsers[office] = (officesOfNewUsers[office] ?? 0) + by;
      if (officesOfNewUsers[office] === 0) delete officesOfNewUsers[office];
    }
  };
  return {
    add(operation: PreviewOperation) {
      count(operation, 1);
      if (operation.renameRefused !== undefined)
        groupRenamesNotApplied.push({
          sourceId: operation.sourceId,
          displayName: operation.displayName,
          newName: operation.renameRefused,
        });
    },
    /** An operation taken back (its object was planned again in a newer state). */
    remove(operation: PreviewOperation) {
      count(operation, -1);
      const rename = groupRenamesNotApplied.findIndex((entry) => entry.sourceId === operation.sourceId);
      if (operation.renameRefused !== undefined && rename >= 0) groupRenamesNotApplied.splice(rename, 1);
    },
    result(memberships: readonly PlannedMembership[], reenabledUsers: number): PreviewImpact {
      return {
        counts,
        memberships: {
          added: memberships.reduce((sum, membership) => sum + membership.add.length, 0),
          removed: memberships.reduce((sum, membership) => sum + membership.remove.length, 0),
          groups: memberships.length,
        },
        newSeats: counts.create.users + reenabledUsers,
        officesOfNewUsers,
        groupRenamesNotApplied,
        disablesOrDeletes:
          counts.disable.users + counts.disable.groups + counts.delete.users + counts.delete.groups,
      };
    },
  };
}

/** Whether an update turns a disabled Dialpad user back on (it takes a licence again). */
export function reenables(operation: PlannedOperation): boolean {
  return (
    operation.objectType === "User" &&
    operation.kind === "update" &&
    (operation.operations ?? []).some(
      (patch) => patch.path === "active" && (patch.value === true || patch.value === "True"),
    )
  );
}

export interface PreflightCheck {
  id: "offices" | "secret-token-expiry" | "group-renames" | "licences";
  title: string;
  status: "pass" | "info" | "warn" | "fail";
  detail: string;
  items?: string[];
}

const EXPIRY_WARNING_DAYS = 14;

/**
 * Dialpad-specific checks before a cycle runs: offices that match no Dialpad office (Dialpad then places
 * the user by country or in the main office), the key's expiry, group renames Dialpad will refuse, and
 * the licences new users take.
 */
export function preflightChecks(input: {
  impact: PreviewImpact;
  /** Office names in Dialpad; null when they could not be read (then `officesError` says why). */
  dialpadOffices: readonly string[] | null;
  officesError?: string;
  secretTokenExpiresAt: Date | null;
  now: Date;
}): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const offices = Object.entries(input.impact.officesOfNewUsers).filter(([name]) => name !== "");
  if (input.dialpadOffices === null) {
    checks.push({
      id: "offices",
      title: "Offices of new users",
      status: "warn",
      detail: `Dialpad's office list could not be read (${input.officesError ?? "unknown error"}), so office names were not checked.`,
    });
  } else {
    // Dialpad compares office names exactly, case included (Dialpad's SCIM FAQ).
    const known = new Set(input.dialpadOffices);
    const unknown = offices.filter(([name]) => !known.has(name));
    checks.push({
      id: "offices",
      title: "Offices of new users",
      status: unknown.length ? "warn" : "pass",
      detail: unknown.length
        ? `${unknown.reduce((sum, [, count]) => sum + count, 0)} new user(s) have an office that matches no Dialpad office; Dialpad places them by country or in the main office. Fix the office attribute in Entra ID or the mapping, or create the office in Dialpad.`
        : offices.length
          ? "Every office of a new user matches a Dialpad office."
          : "No new user has an office mapped.",
      ...(unknown.length ? { items: unknown.map(([name, count]) => `${name}: ${count} user(s)`) } : {}),
    });
  }

  const expires = input.secretTokenExpiresAt;
  const daysLeft = expires ? Math.floor((expires.getTime() - input.now.getTime()) / 86_400_000) : null;
  checks.push({
    id: "secret-token-expiry",
    title: "Dialpad API key expiry",
    status:
      daysLeft === null ? "info" : daysLeft < 0 ? "fail" : daysLeft <= EXPIRY_WARNING_DAYS ? "warn" : "pass",
    detail:
      expires === null || daysLeft === null
        ? "No expiry date is recorded for the key; enter it in Provisioning settings to be warned before it stops working."
        : daysLeft < 0
          ? `The key expired on ${expires.toISOString().slice(0, 10)}: every request will fail with 401 and provisioning will be quarantined. Create a new key in Dialpad and rotate it in Provisioning settings.`
          : `The key expires on ${expires.toISOString().slice(0, 10)} (in ${daysLeft} day(s)).` +
            (daysLeft <= EXPIRY_WARNING_DAYS ? " Rotate it before then to avoid a quarantine." : ""),
  });

  const renames = input.impact.groupRenamesNotApplied;
  checks.push({
    id: "group-renames",
    title: "Group renames",
    status: renames.length ? "warn" : "pass",
    detail: renames.length
      ? `${renames.length} group(s) were renamed in Entra ID; Dialpad does not support group renames, so they keep their names in Dialpad.`
      : "No group rename is pending.",
    ...(renames.length
      ? { items: renames.map((rename) => `${rename.displayName ?? rename.sourceId} → ${rename.newName}`) }
      : {}),
  });

  checks.push({
    id: "licences",
    title: "Licences",
    status: "info",
    detail: input.impact.newSeats
      ? `${input.impact.newSeats} user(s) would take a Dialpad licence (new or enabled again); Dialpad bills new seats prorated.`
      : "No user would take a new Dialpad licence.",
  });
  return checks;
}

/** JSON with sorted keys, so equal content always hashes equal. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
