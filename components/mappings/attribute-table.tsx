"use client";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import type { TAttributeMapping } from "@/lib/mapping";
import { cn } from "@/components/ui/cn";
import { GHOST_DISABLED, type ObjectKey, READ_ONLY_REASON, describeSource } from "./catalog";
import { renderHighlighted } from "./expression-highlight";

const FIELD_LABELS: Record<string, string> = {
  source: "Source",
  target: "Target attribute",
  matchingPriority: "Matching precedence",
  defaultValue: "Default value",
  type: "Mapping type",
  apply: "Apply this mapping",
};

export function AttributeTable({
  objectKey,
  mappings,
  canWrite,
  rowErrors,
  onEdit,
  onDelete,
}: {
  objectKey: ObjectKey;
  mappings: TAttributeMapping[];
  canWrite: boolean;
  rowErrors: (index: number) => { field: string; message: string }[];
  onEdit: (index: number) => void;
  onDelete: (index: number) => void;
}) {
  if (mappings.length === 0) {
    return <p className="text-sm">No attribute mappings yet. Add one to send attributes to Dialpad.</p>;
  }
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
      <table className="min-w-full text-left text-sm">
        <caption className="sr-only">
          {objectKey === "users" ? "User" : "Group"} attribute mappings from Entra ID to Dialpad
        </caption>
        <thead className="bg-slate-100 text-xs text-slate-700 uppercase dark:bg-slate-800 dark:text-slate-300">
          <tr>
            <th scope="col" className="px-3 py-2">
              Type
            </th>
            <th scope="col" className="px-3 py-2">
              Source attribute or expression
            </th>
            <th scope="col" className="px-3 py-2">
              Target attribute
            </th>
            <th scope="col" className="px-3 py-2">
              Default value
            </th>
            <th scope="col" className="px-3 py-2">
              Matching precedence
            </th>
            <th scope="col" className="px-3 py-2">
              Apply
            </th>
            <th scope="col" className="px-3 py-2">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {mappings.map((mapping, index) => {
            const errors = rowErrors(index);
            const errorId = `${objectKey}-mapping-${index}-errors`;
            return (
              <tr
                key={index}
                className="border-t border-slate-200 align-top dark:border-slate-800"
                aria-invalid={errors.length > 0 || undefined}
              >
                <td className="px-3 py-2 whitespace-nowrap">{mapping.type}</td>
                <td className="max-w-md px-3 py-2">
                  {mapping.type === "Expression" ? (
                    <code className="font-mono text-xs [overflow-wrap:anywhere]">
                      {renderHighlighted(mapping.source)}
                    </code>
                  ) : (
                    <span className="font-mono text-xs [overflow-wrap:anywhere]">
                      {describeSource(mapping) || "—"}
                    </span>
                  )}
                </td>
                <td className="px-3 py-2">
                  <span className="font-mono text-xs [overflow-wrap:anywhere]">{mapping.target}</span>
                  {errors.length > 0 && (
                    <ul id={errorId} className="mt-1 space-y-0.5 text-xs text-red-700 dark:text-red-400">
                      {errors.map((error) => (
                        <li key={`${error.field}:${error.message}`}>
                          {FIELD_LABELS[error.field] ?? error.field}: {error.message}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="px-3 py-2 [overflow-wrap:anywhere]">{mapping.defaultValue ?? ""}</td>
                <td className="px-3 py-2">
                  {mapping.matchingPriority > 0 ? (
                    <Badge tone="info">{`Match ${mapping.matchingPriority}`}</Badge>
                  ) : (
                    ""
                  )}
                </td>
                <td className="px-3 py-2 whitespace-nowrap">
                  {mapping.apply === "Always" ? "Always" : "Only during creation"}
                </td>
                <td className="px-3 py-1 whitespace-nowrap">
                  <div className="flex gap-1">
                    <Button
                      variant="ghost"
                      className={cn("px-2 py-1", GHOST_DISABLED)}
                      disabled={!canWrite}
                      title={canWrite ? undefined : READ_ONLY_REASON}
                      aria-label={`Edit mapping to ${mapping.target}`}
                      aria-describedby={errors.length > 0 ? errorId : undefined}
                      onClick={() => onEdit(index)}
                    >
                      Edit
                    </Button>
                    <Button
                      variant="ghost"
                      className={cn("px-2 py-1 text-red-700 dark:text-red-400", GHOST_DISABLED)}
                      disabled={!canWrite}
                      title={canWrite ? undefined : READ_ONLY_REASON}
                      aria-label={`Delete mapping to ${mapping.target}`}
                      onClick={() => onDelete(index)}
                    >
                      Delete
                    </Button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
