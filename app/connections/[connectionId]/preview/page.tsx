"use client";

import { useParams } from "next/navigation";
import { PlanPreview } from "@/components/preview/plan-preview";
import { useMe } from "@/lib/client/me";

export default function PreviewPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (!me.data) return <p role="status">Loading…</p>;
  return <PlanPreview connectionId={connectionId} canWrite={me.data.canWrite} />;
}
