"use client";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table } from "@/components/ui/table";
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
  return (
    <Table
      caption={`${objectKey === "users" ? "User" : "Group"} attribute mappings from Entra ID to Dialpad`}
      empty={<p className="text-sm">No attribute mappings yet. Add one to send attributes to Dialpad.</p>}
      rows={mappings}
      rowKey={(_, index) => index}
      rowProps={(_, index) => ({ "aria-invalid": rowErrors(index).length > 0 || undefined })}
      columns={[
        { header: "Type", wrap: "nowrap", cell: (mapping) => mapping.type },
        {
          header: "Source attribute or expression",
          wrap: "anywhere",
          className: "max-w-md",
          cell: (mapping) =>
            mapping.type === "Expression" ? (
              <code className="font-mono text-xs">{renderHighlighted(mapping.source)}</code>
            ) : (
              <span className="font-mono text-xs">{describeSource(mapping) || "—"}</span>
            ),
        },
        {
          header: "Target attribute",
          cell: (mapping, index) => {
            const errors = rowErrors(index);
            return (
              <>
                <span className="font-mono text-xs [overflow-wrap:anywhere]">{mapping.target}</span>
                {errors.length > 0 && (
                  <ul
                    id={errorId(objectKey, index)}
                    className="mt-1 space-y-0.5 text-xs text-red-700 dark:text-red-400"
                  >
                    {errors.map((error) => (
                      <li key={`${error.field}:${error.message}`}>
                        {FIELD_LABELS[error.field] ?? error.field}: {error.message}
                      </li>
                    ))}
                  </ul>
                )}
              </>
            );
          },
        },
        { header: "Default value", cell: (mapping) => mapping.defaultValue ?? "" },
        {
          header: "Matching precedence",
          cell: (mapping) =>
            mapping.matchingPriority > 0 ? (
              <Badge tone="info">{`Match ${mapping.matchingPriority}`}</Badge>
            ) : (
              ""
            ),
        },
        {
          header: "Apply",
          wrap: "nowrap",
          cell: (mapping) => (mapping.apply === "Always" ? "Always" : "Only during creation"),
        },
        {
          header: "Actions",
          headerHidden: true,
          wrap: "nowrap",
          className: "py-1",
          cell: (mapping, index) => (
            <div className="flex gap-1">
              <Button
                variant="ghost"
                className={cn("px-2 py-1", GHOST_DISABLED)}
                disabled={!canWrite}
                title={canWrite ? undefined : READ_ONLY_REASON}
                aria-label={`Edit mapping to ${mapping.target}`}
                aria-describedby={rowErrors(index).length > 0 ? errorId(objectKey, index) : undefined}
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
          ),
        },
      ]}
    />
  );
}

function errorId(objectKey: ObjectKey, index: number): string {
  return `${objectKey}-mapping-${index}-errors`;
}
