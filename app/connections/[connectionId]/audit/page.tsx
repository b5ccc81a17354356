"use client";

import { useParams } from "next/navigation";
import { AuditLog } from "@/components/audit/audit-log";

export default function AuditPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  return <AuditLog connectionId={connectionId} />;
}
