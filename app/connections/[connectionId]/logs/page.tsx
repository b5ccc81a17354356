"use client";

import { useParams } from "next/navigation";
import { Suspense } from "react";
import { LogTable } from "@/components/connections/log-table";
import { useMe } from "@/lib/client/me";

export default function LogsPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (!me.data) return <p role="status">Loading…</p>;
  // The filters live in the query string, which Next.js reads inside a Suspense boundary.
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <LogTable connectionId={connectionId} canWrite={me.data.canWrite} />
    </Suspense>
  );
}
