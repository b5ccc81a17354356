"use client";

import { useParams } from "next/navigation";
import { DeleteConnection } from "@/components/connections/delete-connection";
import { SettingsForm } from "@/components/connections/settings-form";
import { TargetSelfTest } from "@/components/connections/target-self-test";
import { Alert } from "@/components/ui/alert";
import { describeProblem } from "@/lib/client/api";
import { useConnection } from "@/lib/client/connections";
import { useMe } from "@/lib/client/me";

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
  return (
    <div className="space-y-6">
      <SettingsForm key={connection.data.id} connection={connection.data} canWrite={me.data.canWrite} />
      <TargetSelfTest key={connection.data.id} connection={connection.data} canWrite={me.data.canWrite} />
      <DeleteConnection connection={connection.data} canWrite={me.data.canWrite} />
    </div>
  );
}
