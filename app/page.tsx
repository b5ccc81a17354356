"use client";

import Link from "next/link";
import { ConsoleShell } from "@/components/console-shell";
import { NewConnectionButton } from "@/components/connections/new-connection";
import { isNoRole, NoRoleNotice } from "@/components/no-role";
import { Alert } from "@/components/ui/alert";
import { Card } from "@/components/ui/card";
import { describeProblem } from "@/lib/client/api";
import { useConnections } from "@/lib/client/connections";
import { useMe } from "@/lib/client/me";

export default function HomePage() {
  const connections = useConnections();
  const me = useMe();
  return (
    <ConsoleShell>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Connections</h1>
        {me.data && <NewConnectionButton canWrite={me.data.canWrite} />}
      </div>
      <p className="mt-1 text-slate-600 dark:text-slate-400">
        Each connection provisions one Entra application into one Dialpad company.
      </p>
      <div className="mt-6 grid gap-4 md:grid-cols-2">
        {connections.isPending && <p role="status">Loading connections…</p>}
        {isNoRole(connections.error) && <NoRoleNotice />}
        {connections.error && !isNoRole(connections.error) && (
          <Alert tone="error" title="Could not load connections">
            {describeProblem(connections.error)}
          </Alert>
        )}
        {connections.data?.connections.length === 0 && <p>No connections yet.</p>}
        {connections.data?.connections.map((connection) => (
          <Link
            key={connection.id}
            href={`/connections/${connection.id}`}
            className="block rounded-lg focus-visible:ring-2 focus-visible:ring-blue-500 focus-visible:outline-none"
          >
            <Card title={connection.name}>
              <p className="text-sm text-slate-600 dark:text-slate-400">
                {connection.tenantUrl ?? "Tenant URL not set"}
              </p>
              <p className="mt-1 text-sm">Provisioning {connection.provisioningEnabled ? "On" : "Off"}</p>
            </Card>
          </Link>
        ))}
      </div>
    </ConsoleShell>
  );
}
