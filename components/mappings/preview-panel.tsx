"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { TextInput } from "@/components/ui/field";
import { describeProblem } from "@/lib/client/api";
import type { ExportedValue } from "@/lib/mapping";
import { type DirectoryUser, type PreviewResponse, useDirectoryUsers } from "./use-mappings";

export function formatExported(value: ExportedValue | undefined): string {
  if (value === undefined) return "";
  if (value === null) return "NULL";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Picks a directory user for the live preview (the same search the on-demand screen uses). */
export function PreviewUserPicker({
  connectionId,
  selected,
  onSelect,
}: {
  connectionId: string;
  selected: DirectoryUser | null;
  onSelect: (user: DirectoryUser | null) => void;
}) {
  const [search, setSearch] = useState("");
  const [submitted, setSubmitted] = useState("");
  const users = useDirectoryUsers(connectionId, submitted);
  // Not a <form>: the picker lives inside the mapping dialog's form, and forms cannot nest.
  const run = () => setSubmitted(search.trim());
  return (
    <div>
      <div className="flex gap-2">
        <label htmlFor="preview-user-search" className="sr-only">
          Search a user to preview with
        </label>
        <TextInput
          id="preview-user-search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              run();
            }
          }}
          placeholder="Name, user principal name or mail"
        />
        <Button variant="secondary" onClick={run}>
          Search
        </Button>
      </div>
      {users.isFetching && (
        <p className="mt-2 text-sm" role="status">
          Searching…
        </p>
      )}
      {users.error && (
        <Alert tone="error" className="mt-2" title="Search failed">
          {describeProblem(users.error)}
        </Alert>
      )}
      {users.data && users.data.users.length === 0 && (
        <p className="mt-2 text-sm">No users match “{submitted}”.</p>
      )}
      {users.data && users.data.users.length > 0 && (
        <fieldset className="mt-2">
          <legend className="sr-only">Preview with user</legend>
          <ul className="max-h-40 divide-y divide-slate-200 overflow-y-auto rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
            {users.data.users.map((user) => (
              <li key={user.id}>
                <label className="flex cursor-pointer items-center gap-3 px-3 py-1.5">
                  <input
                    type="radio"
                    name="preview-user"
                    checked={selected?.id === user.id}
                    onChange={() => onSelect(user)}
                  />
                  <span className="min-w-0">
                    <span className="block truncate text-sm font-medium">
                      {user.displayName ?? user.userPrincipalName}
                    </span>
                    <span className="block truncate text-xs text-slate-600 dark:text-slate-400">
                      {user.userPrincipalName}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
    </div>
  );
}

export function PreviewResult({
  preview,
  hasUser,
  isUpdating,
  error,
}: {
  preview: PreviewResponse | undefined;
  hasUser: boolean;
  isUpdating: boolean;
  error: unknown;
}) {
  if (error) {
    return (
      <Alert tone="error" title="Preview failed">
        {describeProblem(error)}
      </Alert>
    );
  }
  if (!preview) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400">
        {hasUser ? "Evaluating…" : "Pick a user to see the value this mapping sends for them."}
      </p>
    );
  }
  const { result } = preview;
  return (
    <div className="space-y-2" aria-busy={isUpdating}>
      {result.ok && hasUser && (
        <div>
          {result.flows ? (
            <p className="text-sm">
              <span className="text-slate-600 dark:text-slate-400">Value sent to Dialpad: </span>
              {result.value === null ? (
                <span>NULL (Entra never sends null values; the default value applies on create)</span>
              ) : (
                <output
                  data-testid="preview-value"
                  className="rounded bg-slate-100 px-1.5 py-0.5 font-mono break-all dark:bg-slate-800"
                >
                  {formatExported(result.value)}
                </output>
              )}
              {result.redacted && (
                <span className="ml-2">
                  <Badge tone="warning">Redacted in logs</Badge>
                </span>
              )}
            </p>
          ) : (
            <p className="text-sm">
              <Badge tone="neutral">Does not flow</Badge>{" "}
              <span className="text-slate-600 dark:text-slate-400">
                IgnoreFlowIfNullOrEmpty drops this attribute for this user: nothing is sent.
              </span>
            </p>
          )}
        </div>
      )}
      {!result.ok && (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          No value: the problem is shown under the expression.
        </p>
      )}
      {result.ok && !hasUser && (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          The expression is valid. Pick a user to see its value.
        </p>
      )}
      {result.trace.length > 0 && hasUser && (
        <details className="text-sm">
          <summary className="cursor-pointer text-blue-700 dark:text-blue-400">
            Evaluation steps ({result.trace.length})
          </summary>
          <ol className="mt-2 space-y-1 rounded-md border border-slate-200 p-2 font-mono text-xs dark:border-slate-800">
            {result.trace.map((step, index) => (
              <li key={index} style={{ paddingLeft: `${Math.min(step.depth, 8) * 0.75}rem` }}>
                <span className="break-all">{step.expression}</span>
                <span className="text-slate-500"> → </span>
                <span className="break-all text-emerald-700 dark:text-emerald-300">{step.value}</span>
                {step.note && <span className="block text-slate-500">{step.note}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
