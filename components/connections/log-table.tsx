"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, useMemo, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table } from "@/components/ui/table";
import { TextInput } from "@/components/ui/field";
import { describeProblem } from "@/lib/client/api";
import { LOG_ACTIONS, LOG_STATUSES, type LogFilters, useLogApi, useLogs } from "@/lib/client/logs";
import { LogDrawer } from "./log-drawer";
import {
  draftOfUrl,
  draftProblem,
  EMPTY_DRAFT,
  filtersOfUrl,
  PRESETS,
  urlOfDraft,
  type Draft,
} from "./log-filters";

const STATUS_TONE: Record<string, "success" | "error" | "neutral" | "warning"> = {
  Success: "success",
  Failure: "error",
  Skipped: "neutral",
  Warning: "warning",
};
const SELECT =
  "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";

export function LogTable({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const search = searchParams.toString();
  // Read once per URL (Apply, Back/Forward, a shared link): "last 24 hours" is fixed to an instant then,
  // on purpose, so re-renders do not move it and refetch.
  // eslint-disable-next-line react-hooks/purity
  const filters = useMemo(() => filtersOfUrl(new URLSearchParams(search), Date.now()), [search]);
  const [draft, setDraft] = useState<Draft>(() => draftOfUrl(new URLSearchParams(search)));
  const [draftSearch, setDraftSearch] = useState(search);
  // The query this form pushed last: when the URL arrives at it, the form keeps what was typed since
  // (a select applies at once, and the admin may already be typing an identity when the URL follows).
  const [pushedSearch, setPushedSearch] = useState<string | null>(null);
  if (draftSearch !== search) {
    setDraftSearch(search);
    setPushedSearch(null);
    // Back/Forward or a shared link changed the applied filters: the form shows them instead.
    if (search !== pushedSearch) setDraft(draftOfUrl(new URLSearchParams(search)));
  }
  const [openId, setOpenId] = useState<string | null>(null);
  const [draftError, setDraftError] = useState<string | null>(null);
  const download = useLogDownload(connectionId);

  const logs = useLogs(connectionId, filters);
  const rows = logs.data?.pages.flatMap((page) => page.items) ?? [];
  const openEntry = rows.find((row) => row.id === openId) ?? null;

  const apply = (next: Draft) => {
    const problem = draftProblem(next);
    setDraftError(problem);
    if (problem) return;
    const query = urlOfDraft(next).toString();
    if (query === search) return;
    setPushedSearch(query);
    // A history entry per applied filter, so Back returns to the previous view.
    router.push(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };
  // Selects filter at once (as in Entra); typed fields wait for Apply so each keystroke is not a request.
  const choose = (patch: Partial<Draft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (patch.preset !== "custom") apply(next);
  };

  return (
    <div className="space-y-4">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          apply(draft);
        }}
      >
        <div>
          <label htmlFor="log-date" className="block text-sm font-medium">
            Date
          </label>
          <select
            id="log-date"
            value={draft.preset}
            onChange={(e) => choose({ preset: e.target.value })}
            className={SELECT}
          >
            {PRESETS.map((preset) => (
              <option key={preset.value} value={preset.value}>
                {preset.label}
              </option>
            ))}
          </select>
        </div>
        {draft.preset === "custom" && (
          <>
            <div>
              <label htmlFor="log-from" className="block text-sm font-medium">
                From
              </label>
              <TextInput
                id="log-from"
                type="datetime-local"
                value={draft.customFrom}
                onChange={(e) => setDraft({ ...draft, customFrom: e.target.value })}
              />
            </div>
            <div>
              <label htmlFor="log-to" className="block text-sm font-medium">
                To
              </label>
              <TextInput
                id="log-to"
                type="datetime-local"
                value={draft.customTo}
                onChange={(e) => setDraft({ ...draft, customTo: e.target.value })}
              />
            </div>
          </>
        )}
        <div>
          <label htmlFor="log-status" className="block text-sm font-medium">
            Status
          </label>
          <select
            id="log-status"
            value={draft.status}
            onChange={(e) => choose({ status: e.target.value })}
            className={SELECT}
          >
            <option value="">All</option>
            {LOG_STATUSES.map((value) => (
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
            value={draft.action}
            onChange={(e) => choose({ action: e.target.value })}
            className={SELECT}
          >
            <option value="">All</option>
            {LOG_ACTIONS.map((value) => (
              <option key={value}>{value}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="log-identity" className="block text-sm font-medium">
            Identity
          </label>
          <TextInput
            id="log-identity"
            value={draft.identity}
            onChange={(e) => setDraft({ ...draft, identity: e.target.value })}
            placeholder="Name, UPN, mail or object ID"
          />
        </div>
        <div>
          <label htmlFor="log-cycle" className="block text-sm font-medium">
            Cycle ID
          </label>
          <TextInput
            id="log-cycle"
            className="w-72 font-mono"
            value={draft.cycleId}
            onChange={(e) => setDraft({ ...draft, cycleId: e.target.value })}
          />
        </div>
        <div>
          <label htmlFor="log-change" className="block text-sm font-medium">
            Change ID
          </label>
          <TextInput
            id="log-change"
            className="w-72 font-mono"
            value={draft.changeId}
            onChange={(e) => setDraft({ ...draft, changeId: e.target.value })}
          />
        </div>
        <Button type="submit" variant="secondary">
          Apply
        </Button>
        <Button
          variant="ghost"
          onClick={() => {
            setDraft(EMPTY_DRAFT);
            apply(EMPTY_DRAFT);
          }}
        >
          Reset filters
        </Button>
        <Button variant="ghost" onClick={() => void logs.refetch()}>
          Refresh
        </Button>
      </form>
      {draftError && (
        <Alert tone="error" title="Check the filters">
          {draftError}
        </Alert>
      )}

      <div className="flex flex-wrap items-center gap-2">
        <Button
          variant="secondary"
          onClick={() => void download.run("csv", filters)}
          disabled={download.busy !== null}
        >
          {download.busy === "csv" ? "Preparing CSV…" : "Download CSV"}
        </Button>
        <Button
          variant="secondary"
          onClick={() => void download.run("json", filters)}
          disabled={download.busy !== null}
        >
          {download.busy === "json" ? "Preparing JSON…" : "Download JSON"}
        </Button>
        <span className="text-xs text-slate-600 dark:text-slate-400">
          Downloads every entry matching the filters above.
        </span>
      </div>
      {download.error && (
        <Alert tone="error" title="The download failed">
          {download.error}
        </Alert>
      )}

      {logs.error && (
        <Alert tone="error" title="Could not load the logs">
          {describeProblem(logs.error)}
        </Alert>
      )}
      {logs.isPending && <p role="status">Loading logs…</p>}
      {!logs.isPending && !logs.error && (
        <Table
          caption="Provisioning log entries, newest first"
          empty={<p>No provisioning log entries match these filters.</p>}
          rows={rows}
          rowKey={(row) => row.id}
          loadMore={{
            hasNextPage: logs.hasNextPage,
            isFetching: logs.isFetchingNextPage,
            onLoadMore: () => void logs.fetchNextPage(),
          }}
          columns={[
            {
              header: "Date",
              wrap: "nowrap",
              cell: (row) => new Date(row.activityDateTime).toLocaleString(),
            },
            {
              header: "Identity",
              cell: (row) => (
                <>
                  <div>{row.sourceIdentity.displayName ?? row.sourceIdentity.id ?? "—"}</div>
                  <div className="text-xs text-slate-500 dark:text-slate-400">{row.objectType}</div>
                </>
              ),
            },
            { header: "Action", cell: (row) => row.action },
            {
              header: "Status",
              cell: (row) => <Badge tone={STATUS_TONE[row.status] ?? "neutral"}>{row.status}</Badge>,
            },
            { header: "Initiated by", cell: (row) => row.initiatedBy },
            {
              header: "Details",
              headerHidden: true,
              cell: (row) => (
                <Button
                  variant="ghost"
                  aria-haspopup="dialog"
                  aria-label={`Details of ${row.action} ${row.sourceIdentity.displayName ?? row.sourceIdentity.id ?? ""}`.trim()}
                  onClick={() => setOpenId(row.id)}
                >
                  Details
                </Button>
              ),
            },
          ]}
        />
      )}
      {openEntry && (
        <LogDrawer
          key={openEntry.id}
          entry={openEntry}
          connectionId={connectionId}
          canWrite={canWrite}
          onClose={() => setOpenId(null)}
        />
      )}
    </div>
  );
}

/**
 * The export is a file, not JSON: it is fetched with the current filters (same bearer token as every
 * call) and saved through a Blob and a temporary <a download>.
 */
function useLogDownload(connectionId: string) {
  const logApi = useLogApi(connectionId);
  const [busy, setBusy] = useState<"csv" | "json" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (format: "csv" | "json", filters: LogFilters) => {
    setBusy(format);
    setError(null);
    try {
      const response = await logApi.exportFile(format, filters);
      const blob = await response.blob();
      const disposition = response.headers.get("content-disposition") ?? "";
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `ProvisioningLogs.${format}`;
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      // Revoke after the click has been handled; revoking synchronously can cancel the download.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(describeProblem(caught));
    } finally {
      setBusy(null);
    }
  };
  return { run, busy, error };
}
