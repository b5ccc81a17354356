"use client";

import { type FormEvent, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { TextInput } from "@/components/ui/field";
import { AUDIT_ACTIVITIES, type AuditLogFilters } from "@/lib/client/audit";

const KEYS = ["actor", "activity", "from", "to", "object"] as const;
type Draft = Record<(typeof KEYS)[number], string>;
const EMPTY: Draft = { actor: "", activity: "", from: "", to: "", object: "" };
const SELECT =
  "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";

/** The console's URL with its audit filters only, without empty values. */
function auditSearchOf(params: URLSearchParams): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of KEYS) {
    const value = params.get(key)?.trim();
    if (value) query.set(key, value);
  }
  return query;
}

/** The audit API's filters of the console's URL. */
export function auditFiltersOfUrl(params: URLSearchParams): AuditLogFilters {
  return Object.fromEntries(auditSearchOf(params)) as AuditLogFilters;
}

function localInput(iso: string | null): string {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function draftOf(search: string): Draft {
  const params = new URLSearchParams(search);
  return {
    actor: params.get("actor") ?? "",
    activity: params.get("activity") ?? "",
    from: localInput(params.get("from")),
    to: localInput(params.get("to")),
    object: params.get("object") ?? "",
  };
}

/** Date bounds go to the URL as instants, so a shared link means the same range in any time zone. */
function queryOf(draft: Draft): URLSearchParams {
  return auditSearchOf(
    new URLSearchParams({
      ...draft,
      from: draft.from ? new Date(draft.from).toISOString() : "",
      to: draft.to ? new Date(draft.to).toISOString() : "",
    }),
  );
}

/**
 * The audit log's filters. They apply with Apply (typed fields would otherwise send a request per
 * keystroke) and are kept in the URL by the caller; Back/Forward bring the form back to what is shown.
 */
export function AuditFilters({
  search,
  onApply,
}: {
  search: string;
  onApply: (query: URLSearchParams) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(search));
  const [draftSearch, setDraftSearch] = useState(search);
  const [problem, setProblem] = useState<string | null>(null);
  if (draftSearch !== search) {
    setDraftSearch(search);
    setDraft(draftOf(search));
  }
  const apply = (next: Draft) => {
    const backwards = next.from && next.to && next.from > next.to;
    setProblem(backwards ? "The start of the date range must be before its end." : null);
    if (!backwards) onApply(queryOf(next));
  };
  const field = (key: keyof Draft) => ({
    id: `audit-${key}`,
    value: draft[key],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [key]: event.target.value }),
  });

  return (
    <>
      <form
        aria-label="Audit log filters"
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          apply(draft);
        }}
      >
        <div>
          <label htmlFor="audit-actor" className="block text-sm font-medium">
            Initiated by
          </label>
          <TextInput {...field("actor")} placeholder="UPN or object ID" />
        </div>
        <div>
          <label htmlFor="audit-activity" className="block text-sm font-medium">
            Activity
          </label>
          <select {...field("activity")} className={SELECT}>
            <option value="">All</option>
            {AUDIT_ACTIVITIES.map((activity) => (
              <option key={activity}>{activity}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="audit-object" className="block text-sm font-medium">
            Object
          </label>
          <TextInput {...field("object")} placeholder="Name, UPN or object ID" />
        </div>
        <div>
          <label htmlFor="audit-from" className="block text-sm font-medium">
            From
          </label>
          <TextInput {...field("from")} type="datetime-local" />
        </div>
        <div>
          <label htmlFor="audit-to" className="block text-sm font-medium">
            To
          </label>
          <TextInput {...field("to")} type="datetime-local" />
        </div>
        <Button type="submit" variant="secondary">
          Apply
        </Button>
        <Button
          variant="ghost"
          onClick={() => {
            setDraft(EMPTY);
            apply(EMPTY);
          }}
        >
          Reset filters
        </Button>
      </form>
      {problem && (
        <Alert tone="error" title="Check the filters">
          {problem}
        </Alert>
      )}
    </>
  );
}
