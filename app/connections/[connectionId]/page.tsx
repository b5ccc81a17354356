"use client";

import { useParams } from "next/navigation";
import { Overview } from "@/components/overview/overview";

export default function OverviewPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  return <Overview connectionId={connectionId} />;
}
