"use client";

import Link from "next/link";
import { useParams } from "next/navigation";
import { Alert } from "@/components/ui/alert";
import { Card } from "@/components/ui/card";
import { describeProblem } from "@/lib/client/api";
import { useConnection } from "@/lib/client/use-connection";

export default function OverviewPage() {
  const { connectionId } = useParams<{ connectionId: string }>();
  const connection = useConnection(connectionId);
  if (connection.error)
    return (
      <Alert tone="error" title="Could not load the connection">
        {describeProblem(connection.error)}
      </Alert>
    );
  if (!connection.data) return <p role="status">Loading…</p>;
  const c = connection.data;
  const isConfigured = Boolean(c.tenantUrl && c.secretToken.isSet);
  return (
    <div className="grid gap-4 md:grid-cols-2">
      <Card title="Status">
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2 text-sm">
          <dt className="text-slate-600 dark:text-slate-400">Provisioning status</dt>
          <dd>{isConfigured ? (c.provisioningEnabled ? "On" : "Off") : "Not configured"}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Tenant URL</dt>
          <dd className="break-all">{c.tenantUrl ?? "—"}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Scope</dt>
          <dd>{c.scope === "All" ? "Sync all users and groups" : "Sync only assigned users and groups"}</dd>
        </dl>
        {!isConfigured && (
          <p className="mt-4 text-sm">
            Next step: enter the tenant URL and secret token in{" "}
            <Link
              className="text-blue-700 underline dark:text-blue-400"
              href={`/connections/${connectionId}/settings`}
            >
              Provisioning settings
            </Link>{" "}
            and test the connection.
          </p>
        )}
      </Card>
      <Card title="Try it">
        <p className="text-sm">
          Use{" "}
          <Link
            className="text-blue-700 underline dark:text-blue-400"
            href={`/connections/${connectionId}/on-demand`}
          >
            Provision on demand
          </Link>{" "}
          to validate the configuration with one user, then read the result in the{" "}
          <Link
            className="text-blue-700 underline dark:text-blue-400"
            href={`/connections/${connectionId}/logs`}
          >
            provisioning logs
          </Link>
          .
        </p>
      </Card>
    </div>
  );
}
