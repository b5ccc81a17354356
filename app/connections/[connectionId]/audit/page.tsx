"use client";

import { useParams } from "next/navigation";
import { Suspense } from "react";
import { AuditLog } from "@/components/audit/audit-log";

export default function AuditPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  // The filters live in the query string, which Next.js reads inside a Suspense boundary.
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <AuditLog connectionId={connectionId} />
    </Suspense>
  );
}
