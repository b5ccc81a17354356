"use client";

import { useParams } from "next/navigation";
import { ReconcilePanel } from "@/components/reconcile/reconcile-panel";
import { useMe } from "@/lib/client/me";

export default function ReconcilePage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (!me.data) return <p role="status">Loading…</p>;
  return <ReconcilePanel connectionId={connectionId} canWrite={me.data.canWrite} />;
}
