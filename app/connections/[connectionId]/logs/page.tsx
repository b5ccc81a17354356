"use client";

import { useParams } from "next/navigation";
import { LogTable } from "@/components/connections/log-table";
import { useMe } from "@/lib/client/me";

export default function LogsPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (!me.data) return <p role="status">Loading…</p>;
  return <LogTable connectionId={connectionId} canWrite={me.data.canWrite} />;
}
