"use client";

import { useParams } from "next/navigation";
import { LogTable } from "@/components/connections/log-table";

export default function LogsPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  return <LogTable connectionId={connectionId} />;
}
