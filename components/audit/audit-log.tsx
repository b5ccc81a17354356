"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Table } from "@/components/ui/table";
import { Button } from "@/components/ui/button";
import { describeProblem } from "@/lib/client/api";
import { type AuditEntryObject, useAuditLog } from "@/lib/client/audit";
import { AuditFilters, auditFiltersOfUrl } from "./audit-filters";

interface ScopeShape {
  groups: {
    clauses: { sourceOperandName: string; operatorName: string; targetOperand?: { values?: string[] } }[];
  }[];
}

function isScope(value: unknown): value is ScopeShape {
  return Boolean(value && typeof value === "object" && Array.isArray((value as ScopeShape).groups));
}

/** Scoping filters and target object actions read as an admin would write them, not as JSON. */
function formatChangeValue(field: string, value: unknown): string {
  if (field.endsWith(".scope")) {
    if (value === null || value === undefined) return "No scoping filter";
    if (isScope(value)) {
      return value.groups
        .map(
          (group) =>
            `(${group.clauses
              .map((clause) =>
                [
                  clause.sourceOperandName,
                  clause.operatorName,
                  ...(clause.targetOperand?.values ?? []).map((v) => `"${v}"`),
                ].join(" "),
              )
              .join(" AND ")})`,
        )
        .join(" OR ");
    }
  }
  if (field.endsWith(".actions") && value && typeof value === "object") {
    const on = Object.entries(value as Record<string, unknown>)
      .filter(([, enabled]) => enabled === true)
      .map(([action]) => action.charAt(0).toUpperCase() + action.slice(1));
    return on.length ? on.join(", ") : "None";
  }
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * Entries record `{ field: { before, after } }` for settings and mappings, but other activities store
 * plain values (a test result, a count); those show as an "after" with no "before".
 */
function changeRows(changes: unknown): { field: string; before: unknown; after: unknown }[] {
  if (!changes || typeof changes !== "object" || Array.isArray(changes)) return [];
  return Object.entries(changes as Record<string, unknown>).map(([field, value]) => {
    if (
      value &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      ("before" in value || "after" in value)
    ) {
      const pair = value as { before?: unknown; after?: unknown };
      return { field, before: pair.before, after: pair.after };
    }
    return { field, before: undefined, after: value };
  });
}

export function AuditLog({ connectionId }: { connectionId: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams().toString();
  const filters = auditFiltersOfUrl(new URLSearchParams(search));
  const audit = useAuditLog(connectionId, filters);
  const rows = audit.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Who changed this connection&apos;s configuration, when, and what changed — newest first.
        </p>
        <Button variant="ghost" onClick={() => void audit.refetch()} disabled={audit.isFetching}>
          {audit.isFetching && !audit.isFetchingNextPage ? "Refreshing…" : "Refresh"}
        </Button>
      </div>
      <AuditFilters
        search={search}
        onApply={(next) => {
          const text = next.toString();
          // A history entry per applied filter, so Back returns to the previous view.
          if (text !== search) router.push(text ? `${pathname}?${text}` : pathname, { scroll: false });
        }}
      />
      {audit.error && (
        <Alert tone="error" title="Could not load the audit log">
          {describeProblem(audit.error)}
        </Alert>
      )}
      {audit.isPending && <p role="status">Loading the audit log…</p>}
      {audit.isSuccess && (
        <Table
          caption="Audit log entries, newest first"
          scrollLabel="Audit log entries"
          empty={
            <p>
              {filtered
                ? "No audit entries match these filters."
                : "No configuration changes have been recorded yet."}
            </p>
          }
          rows={rows}
          rowKey={(row) => row.id}
          loadMore={{
            hasNextPage: audit.hasNextPage,
            isFetching: audit.isFetchingNextPage,
            onLoadMore: () => void audit.fetchNextPage(),
          }}
          columns={[
            {
              header: "Date",
              wrap: "nowrap",
              cell: (row) => <time dateTime={row.at}>{new Date(row.at).toLocaleString()}</time>,
            },
            {
              header: "Initiated by",
              wrap: "anywhere",
              className: "min-w-[11rem]",
              cell: (row) => row.actor.upn,
            },
            { header: "Activity", className: "min-w-[10rem]", cell: (row) => row.activity },
            {
              header: "Object",
              wrap: "anywhere",
              className: "min-w-[11rem]",
              cell: (row) => <AuditObject object={row.object} />,
            },
            {
              header: "Result",
              cell: (row) => (
                <Badge tone={row.result === "success" ? "success" : "error"}>
                  {row.result === "success" ? "Success" : row.result === "failure" ? "Failure" : row.result}
                </Badge>
              ),
            },
            {
              header: "Changes",
              cell: (row) => <ChangesTable changes={row.changes} objectId={row.object?.id ?? null} />,
            },
          ]}
        />
      )}
    </div>
  );
}

/** The object as the admin knows it: its name and UPN; its id only when no name is known. */
function AuditObject({ object }: { object: AuditEntryObject | null }) {
  if (!object) return <span className="text-slate-500 dark:text-slate-400">—</span>;
  return (
    <>
      <div className={object.displayName ? undefined : "font-mono text-xs"}>
        {object.displayName ?? object.id}
      </div>
      <div className="text-xs text-slate-600 dark:text-slate-400">
        {object.userPrincipalName ? `${object.userPrincipalName} · ` : ""}
        {object.type}
      </div>
    </>
  );
}

/** Whether a change only repeats the object's id, which the Object column already names. */
function isObjectId(value: unknown, objectId: string | null): boolean {
  if (!objectId) return false;
  return value === objectId || (Array.isArray(value) && value.length === 1 && value[0] === objectId);
}

function ChangesTable({ changes, objectId }: { changes: unknown; objectId: string | null }) {
  const rows = changeRows(changes).filter((row) => !isObjectId(row.after, objectId));
  return (
    <Table
      variant="compact"
      caption="Field changes"
      small
      className="min-w-[22rem] table-fixed"
      empty={<span className="text-slate-500 dark:text-slate-400">No field changes</span>}
      rows={rows}
      rowKey={(row) => row.field}
      columns={[
        { header: "Field", wrap: "anywhere", className: "w-1/3 font-mono", cell: (row) => row.field },
        {
          header: "Before",
          wrap: "anywhere",
          className: "text-slate-600 dark:text-slate-400",
          cell: (row) => formatChangeValue(row.field, row.before),
        },
        { header: "After", wrap: "anywhere", cell: (row) => formatChangeValue(row.field, row.after) },
      ]}
    />
  );
}
