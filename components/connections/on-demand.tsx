"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { TextInput } from "@/components/ui/field";
import { describeProblem, useApi } from "@/lib/client/api";
import { queryKeys } from "@/lib/client/query-keys";
import type { OnDemandResult } from "@/lib/sync/on-demand-types";
import { ModifiedPropertiesTable } from "./modified-properties";
import { StepList } from "./step-list";

interface DirectoryUser {
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
  mail: string | null;
}

export function ProvisionOnDemand({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState("");
  const [submitted, setSubmitted] = useState("");
  const [selected, setSelected] = useState<DirectoryUser | null>(null);

  const users = useQuery({
    queryKey: queryKeys.connections.directoryUsers(connectionId, submitted),
    queryFn: ({ signal }) =>
      api<{ users: DirectoryUser[] }>(
        `/api/connections/${connectionId}/directory/users?search=${encodeURIComponent(submitted)}`,
        { signal },
      ),
    enabled: submitted.length > 0,
  });

  const run = useMutation({
    mutationFn: (user: DirectoryUser) =>
      api<OnDemandResult>(`/api/connections/${connectionId}/provision-on-demand`, {
        method: "POST",
        body: { subjects: [{ objectId: user.id, objectTypeName: "User" }] },
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.connections.all }),
  });

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)]">
      <Card
        title="Select a user"
        description="Search Entra ID by name, user principal name or mail. The user is provisioned now, outside the schedule, through the same steps as a cycle."
      >
        <form
          className="flex gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            setSubmitted(search.trim());
          }}
        >
          <label htmlFor="user-search" className="sr-only">
            Search users
          </label>
          <TextInput
            id="user-search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="e.g. Adele or adele@contoso.example"
          />
          <Button type="submit" variant="secondary">
            Search
          </Button>
        </form>
        {users.isFetching && (
          <p className="mt-3" role="status">
            Searching…
          </p>
        )}
        {users.error && (
          <Alert tone="error" className="mt-3" title="Search failed">
            {describeProblem(users.error)}
          </Alert>
        )}
        {users.data && users.data.users.length === 0 && <p className="mt-3">No users match “{submitted}”.</p>}
        {users.data && users.data.users.length > 0 && (
          <ul className="mt-3 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Matching users">
            {users.data.users.map((user) => (
              <li key={user.id}>
                <label className="flex cursor-pointer items-center gap-3 py-2">
                  <input
                    type="radio"
                    name="on-demand-user"
                    checked={selected?.id === user.id}
                    onChange={() => setSelected(user)}
                  />
                  <span>
                    <span className="block text-sm font-medium">
                      {user.displayName ?? user.userPrincipalName}
                    </span>
                    <span className="block text-xs text-slate-600 dark:text-slate-400">
                      {user.userPrincipalName}
                      {user.mail && user.mail !== user.userPrincipalName ? ` · ${user.mail}` : ""}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
        <Button
          className="mt-4"
          disabled={!selected || !canWrite || run.isPending}
          onClick={() => selected && run.mutate(selected)}
          title={canWrite ? undefined : "Read-only: your role cannot provision."}
        >
          {run.isPending ? "Provisioning…" : "Provision"}
        </Button>
        {!canWrite && (
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
            Read-only: your role (Provisioning.Reader) cannot provision.
          </p>
        )}
      </Card>

      <Card title="Result">
        {!run.data && !run.error && !run.isPending && (
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Pick a user and select Provision to see each step.
          </p>
        )}
        {run.isPending && <p role="status">Running the provisioning steps…</p>}
        {run.error && (
          <Alert tone="error" title="Provisioning failed">
            {describeProblem(run.error)}
          </Alert>
        )}
        {run.data && <OnDemandResultView result={run.data} />}
      </Card>
    </div>
  );
}

function OnDemandResultView({ result }: { result: OnDemandResult }) {
  const tone =
    result.status === "Success"
      ? "success"
      : result.status === "Failure"
        ? "error"
        : result.status === "Warning"
          ? "warning"
          : "neutral";
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <Badge tone={tone}>{result.status}</Badge>
        <span className="text-sm font-medium">{result.action}</span>
        <span className="text-sm text-slate-600 dark:text-slate-400">
          {result.sourceIdentity.displayName}
        </span>
      </div>
      {result.statusInfo.errorCode && (
        <Alert tone={result.status === "Failure" ? "error" : "info"} title={result.statusInfo.errorCode}>
          <p>{result.statusInfo.reason}</p>
          {result.statusInfo.recommendedAction && (
            <p className="mt-1">Recommended action: {result.statusInfo.recommendedAction}</p>
          )}
        </Alert>
      )}
      <StepList steps={result.provisioningSteps} />
      <ModifiedPropertiesTable properties={result.modifiedProperties} />
      <p className="text-xs text-slate-500">Change id {result.changeId}</p>
    </div>
  );
}
