"use client";

import { useParams } from "next/navigation";
import { SettingsForm } from "@/components/connections/settings-form";
import { Alert } from "@/components/ui/alert";
import { describeProblem } from "@/lib/client/api";
import { useConnection } from "@/lib/client/use-connection";
import { useMe } from "@/lib/client/use-me";

export default function SettingsPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const connection = useConnection(connectionId);
  const me = useMe();
  if (connection.error)
    return (
      <Alert tone="error" title="Could not load the connection">
        {describeProblem(connection.error)}
      </Alert>
    );
  if (!connection.data || !me.data) return <p role="status">Loading…</p>;
  return <SettingsForm key={connection.data.id} connection={connection.data} canWrite={me.data.canWrite} />;
}
