"use client";

import Link from "next/link";
import { Alert } from "@/components/ui/alert";
import type { Status } from "@/lib/client/status";

/**
 * Attributes Dialpad refuses. Changes still land without them (a disable is never blocked), so this is a
 * warning, not a failure: the admin decides whether to remove the mapping or ask Dialpad.
 */
export function RefusedAttributes({
  refused,
  connectionId,
}: {
  refused: Status["refusedAttributes"];
  connectionId: string;
}) {
  if (!refused.length) return null;
  return (
    <Alert tone="warning" title="Dialpad refuses some mapped attributes">
      <ul className="space-y-2" data-testid="refused-attributes">
        {refused.map((entry) => (
          <li key={`${entry.objectType}:${entry.attribute}`}>
            <p className="font-medium">{entry.summary}</p>
            <p className="text-xs break-words">
              {entry.scimType ? `${entry.scimType}: ` : ""}
              {entry.detail}
            </p>
            <p className="text-xs">{entry.recommendedAction}</p>
          </li>
        ))}
      </ul>
      <p className="mt-2 text-sm">
        <Link className="underline" href={`/connections/${connectionId}/mappings`}>
          Open Mappings
        </Link>
      </p>
    </Alert>
  );
}
