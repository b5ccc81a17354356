"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { describeProblem } from "@/lib/client/api";
import { useConnection, useConnectionApi } from "@/lib/client/connections";
import { queryKeys } from "@/lib/client/query-keys";

/**
 * The connection's "report after each full cycle" setting, where an admin looks at reports. Saved on
 * change, with the connection's version, like the settings page (a concurrent edit is refused, not lost).
 */
export function AfterFullCycleToggle({
  connectionId,
  canWrite,
}: {
  connectionId: string;
  canWrite: boolean;
}) {
  const connection = useConnection(connectionId);
  const api = useConnectionApi(connectionId);
  const queryClient = useQueryClient();
  // What the admin clicked, shown at once; the saved value takes over once the save answers.
  const [clicked, setClicked] = useState<boolean | null>(null);
  const save = useMutation({
    mutationFn: (reconcileAfterFullCycle: boolean) =>
      api.update({
        expectedVersion: connection.data!.version,
        settings: { reconcileAfterFullCycle },
      }),
    onSuccess: (updated) => queryClient.setQueryData(queryKeys.connections.detail(connectionId), updated),
    onSettled: () => setClicked(null),
  });
  if (!connection.data) return null;
  return (
    <div className="space-y-2">
      <div className="flex items-start gap-2">
        <input
          id="reconcileAfterFullCycle"
          type="checkbox"
          className="mt-1"
          checked={clicked ?? connection.data.reconcileAfterFullCycle}
          disabled={!canWrite || save.isPending}
          onChange={(event) => {
            setClicked(event.target.checked);
            save.mutate(event.target.checked);
          }}
          aria-describedby="reconcileAfterFullCycle-hint"
        />
        <div>
          <label htmlFor="reconcileAfterFullCycle" className="text-sm">
            Run a reconcile report after each full cycle
          </label>
          <p id="reconcileAfterFullCycle-hint" className="text-xs text-slate-600 dark:text-slate-400">
            After every initial cycle that succeeds (the first one, and each one after Restart). Listing
            Dialpad costs about one request per 100 users from the connection&apos;s request budget.
          </p>
        </div>
      </div>
      {save.error && <Alert tone="error">{describeProblem(save.error)}</Alert>}
    </div>
  );
}
