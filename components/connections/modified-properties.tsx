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
  if (properties.length === 0) return null;
  return (
    <div>
      <h3 className="text-sm font-semibold">Modified properties</h3>
      <table className="mt-1 w-full table-fixed text-sm [overflow-wrap:anywhere]">
        <thead>
          <tr>
            <th scope="col" className="pr-4 text-left">
              Property
            </th>
            <th scope="col" className="pr-4 text-left">
              Old value
            </th>
            <th scope="col" className="text-left">
              New value
            </th>
          </tr>
        </thead>
        <tbody>
          {properties.map((property) => (
            <tr key={property.displayName}>
              <td className="pr-4 font-mono text-xs">{property.displayName}</td>
              <td className="pr-4">{formatValue(property.oldValue)}</td>
              <td>{formatValue(property.newValue)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
