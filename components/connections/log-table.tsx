"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { TextInput } from "@/components/ui/field";
import { describeProblem, useApi } from "@/lib/client/api";
import { queryKeys } from "@/lib/client/query-keys";
import type { ProvisioningLogDto } from "@/lib/server/logs";
import { ModifiedPropertiesTable } from "./modified-properties";
import { StepList } from "./step-list";

const STATUS_TONE: Record<string, "success" | "error" | "neutral" | "warning"> = {
  Success: "success",
  Failure: "error",
  Skipped: "neutral",
  Warning: "warning",
};

export function LogTable({ connectionId }: { connectionId: string }) {
  const api = useApi();
  const [status, setStatus] = useState("");
  const [action, setAction] = useState("");
  const [identity, setIdentity] = useState("");
  const [appliedIdentity, setAppliedIdentity] = useState("");
  const [openId, setOpenId] = useState<string | null>(null);
  const filters = {
    status: status || undefined,
    action: action || undefined,
    identity: appliedIdentity || undefined,
  };

  const logs = useInfiniteQuery({
    queryKey: queryKeys.connections.logs(connectionId, filters),
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams(
        Object.entries({ ...filters, cursor: pageParam || undefined }).filter(
          (entry): entry is [string, string] => Boolean(entry[1]),
        ),
      );
      return api<{ items: ProvisioningLogDto[]; nextCursor: string | null }>(
        `/api/connections/${connectionId}/logs?${params}`,
        { signal },
      );
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = logs.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="space-y-4">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          setAppliedIdentity(identity.trim());
        }}
      >
        <div>
          <label htmlFor="log-identity" className="block text-sm font-medium">
            Identity
          </label>
          <TextInput
            id="log-identity"
            value={identity}
            onChange={(e) => setIdentity(e.target.value)}
            placeholder="Name or object id"
          />
        </div>
        <div>
          <label htmlFor="log-status" className="block text-sm font-medium">
            Status
          </label>
          <select
            id="log-status"
            value={status}
            onChange={(e) => setStatus(e.target.value)}
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
          >
            <option value="">All</option>
            {["Success", "Failure", "Skipped", "Warning"].map((value) => (
              <option key={value}>{value}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="log-action" className="block text-sm font-medium">
            Action
          </label>
          <select
            id="log-action"
            value={action}
            onChange={(e) => setAction(e.target.value)}
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
          >
            <option value="">All</option>
            {["Create", "Update", "Delete", "Disable", "StagedDelete", "Other"].map((value) => (
              <option key={value}>{value}</option>
            ))}
          </select>
        </div>
        <Button type="submit" variant="secondary">
          Apply
        </Button>
        <Button variant="ghost" onClick={() => void logs.refetch()}>
          Refresh
        </Button>
      </form>

      {logs.error && (
        <Alert tone="error" title="Could not load the logs">
          {describeProblem(logs.error)}
        </Alert>
      )}
      {logs.isPending && <p role="status">Loading logs…</p>}
      {!logs.isPending && rows.length === 0 && <p>No provisioning log entries match these filters.</p>}
      {rows.length > 0 && (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Provisioning log entries, newest first</caption>
            <thead className="bg-slate-100 text-xs text-slate-700 uppercase dark:bg-slate-800 dark:text-slate-300">
              <tr>
                <th scope="col" className="px-3 py-2">
                  Date
                </th>
                <th scope="col" className="px-3 py-2">
                  Identity
                </th>
                <th scope="col" className="px-3 py-2">
                  Action
                </th>
                <th scope="col" className="px-3 py-2">
                  Status
                </th>
                <th scope="col" className="px-3 py-2">
                  Initiated by
                </th>
                <th scope="col" className="px-3 py-2">
                  <span className="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <LogRow
                  key={row.id}
                  row={row}
                  isOpen={openId === row.id}
                  onToggle={() => setOpenId(openId === row.id ? null : row.id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {logs.hasNextPage && (
        <Button
          variant="secondary"
          onClick={() => void logs.fetchNextPage()}
          disabled={logs.isFetchingNextPage}
        >
          {logs.isFetchingNextPage ? "Loading…" : "Load more"}
        </Button>
      )}
    </div>
  );
}

function LogRow({
  row,
  isOpen,
  onToggle,
}: {
  row: ProvisioningLogDto;
  isOpen: boolean;
  onToggle: () => void;
}) {
  const modified = Array.isArray(row.modifiedProperties)
    ? (row.modifiedProperties as { displayName: string; oldValue: unknown; newValue: unknown }[])
    : [];
  return (
    <>
      <tr className="border-t border-slate-200 dark:border-slate-800">
        <td className="px-3 py-2 whitespace-nowrap">{new Date(row.activityDateTime).toLocaleString()}</td>
        <td className="px-3 py-2">
          <div>{row.sourceIdentity.displayName ?? row.sourceIdentity.id ?? "—"}</div>
          <div className="text-xs text-slate-500">{row.objectType}</div>
        </td>
        <td className="px-3 py-2">{row.action}</td>
        <td className="px-3 py-2">
          <Badge tone={STATUS_TONE[row.status] ?? "neutral"}>{row.status}</Badge>
        </td>
        <td className="px-3 py-2">{row.initiatedBy}</td>
        <td className="px-3 py-2">
          <Button variant="ghost" onClick={onToggle} aria-expanded={isOpen}>
            {isOpen ? "Hide" : "Details"}
          </Button>
        </td>
      </tr>
      {isOpen && (
        <tr className="border-t border-slate-100 bg-slate-50 dark:border-slate-800 dark:bg-slate-950">
          <td colSpan={6} className="space-y-4 px-3 py-3">
            {row.error && (
              <Alert tone="error" title={row.error.code ?? "Error"}>
                <p>{row.error.reason}</p>
                {row.error.recommendedAction && (
                  <p className="mt-1">Recommended action: {row.error.recommendedAction}</p>
                )}
              </Alert>
            )}
            <div>
              <h3 className="text-sm font-semibold">Steps</h3>
              <StepList steps={row.steps} />
            </div>
            <ModifiedPropertiesTable properties={modified} />
            <p className="text-xs text-slate-500">
              Change id {row.changeId}
              {row.cycleId ? ` · cycle id ${row.cycleId}` : ""}
              {row.jobId ? ` · job id ${row.jobId}` : ""} · {row.durationMs} ms
            </p>
          </td>
        </tr>
      )}
    </>
  );
}
