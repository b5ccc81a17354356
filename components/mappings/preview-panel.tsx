"use client";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { describeProblem } from "@/lib/client/api";
import type { ExportedValue } from "@/lib/mapping";
import { UserPicker } from "@/components/directory/directory-picker";
import type { DirectoryUser } from "@/lib/client/directory";
import type { ExpressionPreview } from "@/lib/client/mappings";

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
  return (
    <UserPicker
      connectionId={connectionId}
      id="preview-user"
      label="Search a user to preview with"
      placeholder="Name, user principal name or mail"
      selectedId={selected?.id ?? null}
      onSelect={onSelect}
    />
  );
}

export function PreviewResult({
  preview,
  hasUser,
  isUpdating,
  error,
}: {
  preview: ExpressionPreview | undefined;
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
                <span className="text-slate-500 dark:text-slate-400"> → </span>
                <span className="break-all text-emerald-700 dark:text-emerald-300">{step.value}</span>
                {step.note && <span className="block text-slate-500 dark:text-slate-400">{step.note}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
