"use client";

import { useParams } from "next/navigation";
import { MappingsEditor } from "@/components/mappings/mappings-editor";
import { Alert } from "@/components/ui/alert";
import { describeProblem } from "@/lib/client/api";
import { useMe } from "@/lib/client/me";

export default function MappingsPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const me = useMe();
  if (me.error)
    return (
      <Alert tone="error" title="Could not load your account">
        {describeProblem(me.error)}
      </Alert>
    );
  if (!me.data) return <p role="status">Loading…</p>;
  return <MappingsEditor connectionId={connectionId} canWrite={me.data.canWrite} />;
}
