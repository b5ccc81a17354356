import { Table } from "@/components/ui/table";
import type { ModifiedProperty } from "@/lib/contracts/on-demand";

/** One attribute's old → new values, as on-demand results, previews and log entries carry them. */
export type ModifiedPropertyRow = ModifiedProperty;

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Old → new value per attribute, as Entra's "Modified properties" tab shows them. */
export function ModifiedPropertiesTable({ properties }: { properties: ModifiedPropertyRow[] }) {
  return (
    <Table
      variant="compact"
      caption="Modified properties"
      captionVisible
      className="table-fixed"
      rows={properties}
      rowKey={(property) => property.displayName}
      columns={[
        {
          header: "Property",
          wrap: "anywhere",
          className: "font-mono text-xs",
          cell: (property) => property.displayName,
        },
        { header: "Old value", cell: (property) => formatValue(property.oldValue) },
        { header: "New value", cell: (property) => formatValue(property.newValue) },
      ]}
    />
  );
}
