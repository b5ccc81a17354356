"use client";

import { useParams } from "next/navigation";
import { ProvisionOnDemand } from "@/components/connections/on-demand";
import { useMe } from "@/lib/client/me";

export default function OnDemandPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (!me.data) return <p role="status">Loading…</p>;
  return <ProvisionOnDemand connectionId={connectionId} canWrite={me.data.canWrite} />;
}
