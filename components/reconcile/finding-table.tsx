"use client";

import { type FormEvent, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table } from "@/components/ui/table";
import { TextInput } from "@/components/ui/field";
import { describeProblem } from "@/lib/client/api";
import {
  type FindingFilters,
  type ReconcileFinding,
  useReconcileExport,
  useReconcileFindings,
} from "@/lib/client/reconcile";
import { CATEGORY_LABELS, REASON_LABELS } from "./labels";

const SELECT =
  "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";

const show = (value: unknown): string =>
  value === null || value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value);

/** The findings of the latest finished report, filtered, in keyset pages, with CSV/JSON download. */
export function FindingTable({
  connectionId,
  runId,
  filters,
  onFilters,
  onAdopt,
  canWrite,
}: {
  connectionId: string;
  runId: string;
  filters: FindingFilters;
  onFilters: (filters: FindingFilters) => void;
  onAdopt: (finding: ReconcileFinding) => void;
  canWrite: boolean;
}) {
  const [text, setText] = useState({ attribute: filters.attribute ?? "", search: filters.search ?? "" });
  const download = useFindingDownload(connectionId, runId);
  const findings = useReconcileFindings(connectionId, runId, filters);
  const rows = findings.data?.pages.flatMap((page) => page.items) ?? [];
  const choose = (patch: FindingFilters) => onFilters({ ...filters, ...patch });

  return (
    <div className="space-y-4">
      <form
        className="flex flex-wrap items-end gap-3"
        aria-label="Filter findings"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          choose({ attribute: text.attribute.trim() || undefined, search: text.search.trim() || undefined });
        }}
      >
        <div>
          <label htmlFor="reconcile-category" className="block text-sm font-medium">
            Category
          </label>
          <select
            id="reconcile-category"
            className={SELECT}
            value={filters.category ?? ""}
            onChange={(e) =>
              choose({ category: (e.target.value || undefined) as FindingFilters["category"] })
            }
          >
            <option value="">All</option>
            {Object.entries(CATEGORY_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="reconcile-type" className="block text-sm font-medium">
            Object type
          </label>
          <select
            id="reconcile-type"
            className={SELECT}
            value={filters.objectType ?? ""}
            onChange={(e) =>
              choose({ objectType: (e.target.value || undefined) as FindingFilters["objectType"] })
            }
          >
            <option value="">Users and groups</option>
            <option value="User">Users</option>
            <option value="Group">Groups</option>
          </select>
        </div>
        <div>
          <label htmlFor="reconcile-reason" className="block text-sm font-medium">
            Orphan reason
          </label>
          <select
            id="reconcile-reason"
            className={SELECT}
            value={filters.reason ?? ""}
            onChange={(e) => choose({ reason: (e.target.value || undefined) as FindingFilters["reason"] })}
          >
            <option value="">Any</option>
            {Object.entries(REASON_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="reconcile-attribute" className="block text-sm font-medium">
            Attribute
          </label>
          <TextInput
            id="reconcile-attribute"
            value={text.attribute}
            placeholder="title"
            onChange={(e) => setText({ ...text, attribute: e.target.value })}
          />
        </div>
        <div>
          <label htmlFor="reconcile-search" className="block text-sm font-medium">
            Name or id
          </label>
          <TextInput
            id="reconcile-search"
            value={text.search}
            onChange={(e) => setText({ ...text, search: e.target.value })}
          />
        </div>
        <Button type="submit" variant="secondary">
          Apply
        </Button>
        <Button
          variant="ghost"
          onClick={() => void download.run("csv", filters)}
          disabled={download.busy !== null}
        >
          {download.busy === "csv" ? "Downloading…" : "Download CSV"}
        </Button>
        <Button
          variant="ghost"
          onClick={() => void download.run("json", filters)}
          disabled={download.busy !== null}
        >
          {download.busy === "json" ? "Downloading…" : "Download JSON"}
        </Button>
      </form>
      {download.error && (
        <Alert tone="error" title="The download failed">
          {download.error}
        </Alert>
      )}
      {findings.error && (
        <Alert tone="error" title="Could not load the findings">
          {describeProblem(findings.error)}
        </Alert>
      )}
      {findings.isPending && <p role="status">Loading…</p>}
      {findings.data && (
        <Table
          caption="Reconcile findings"
          scrollLabel="Findings, scrollable"
          empty={<p className="text-sm">Nothing matches these filters.</p>}
          rows={rows}
          rowKey={(finding) => finding.id}
          loadMore={{
            hasNextPage: findings.hasNextPage,
            isFetching: findings.isFetchingNextPage,
            onLoadMore: () => void findings.fetchNextPage(),
          }}
          columns={[
            {
              header: "Finding",
              cell: (finding) => (
                <>
                  <Badge tone={finding.category === "orphan" ? "warning" : "info"}>
                    {CATEGORY_LABELS[finding.category] ?? finding.category}
                  </Badge>
                  <span className="ml-1 text-xs">{finding.objectType}</span>
                </>
              ),
            },
            {
              header: "Dialpad",
              cell: (finding) => (
                <>
                  <span className="block font-medium">{finding.target.name ?? "—"}</span>
                  <span className="block text-xs [overflow-wrap:anywhere] text-slate-600 dark:text-slate-400">
                    {finding.target.id ?? ""}
                    {finding.target.active === false ? " · suspended" : ""}
                  </span>
                </>
              ),
            },
            { header: "Entra ID", cell: (finding) => finding.source.name ?? finding.source.id ?? "—" },
            {
              header: "Attribute or reason",
              cell: (finding) => finding.attribute ?? (finding.reason ? REASON_LABELS[finding.reason] : "—"),
            },
            { header: "Dialpad value", cell: (finding) => show(finding.dialpadValue) },
            { header: "Desired value", cell: (finding) => show(finding.desiredValue) },
            { header: "Detail", className: "text-xs", cell: (finding) => finding.detail ?? "" },
            {
              header: "Actions",
              headerHidden: true,
              // An orphan user or group that collides with an Entra object, or whose link was lost.
              cell: (finding) =>
                finding.category === "orphan" &&
                finding.source.id && (
                  <Button
                    variant="secondary"
                    disabled={!canWrite}
                    onClick={() => onAdopt(finding)}
                    aria-label={`Adopt ${finding.target.name ?? finding.target.id ?? "orphan"}`}
                  >
                    Adopt
                  </Button>
                ),
            },
          ]}
        />
      )}
    </div>
  );
}

function useFindingDownload(connectionId: string, runId: string) {
  const exportFile = useReconcileExport(connectionId);
  const [busy, setBusy] = useState<"csv" | "json" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (format: "csv" | "json", filters: FindingFilters) => {
    setBusy(format);
    setError(null);
    try {
      const response = await exportFile(format, runId, filters);
      const blob = await response.blob();
      const filename =
        /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ??
        `Reconcile.${format}`;
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
