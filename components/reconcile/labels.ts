import type { OrphanReason, ReconcileCategory } from "@/lib/client/reconcile";

export const CATEGORY_LABELS: Record<ReconcileCategory, string> = {
  orphan: "Orphan",
  drifted: "Drifted",
  missing: "Missing in Dialpad",
  suspendedInDialpad: "Suspended in Dialpad",
  activeInDialpad: "Active in Dialpad",
};

export const REASON_LABELS: Record<OrphanReason, string> = {
  neverLinked: "Never linked",
  linkLost: "Link lost",
  collides: "Matching attribute collides",
};
