"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { describeProblem } from "@/lib/client/api";
import { useConnection, useConnectionApi } from "@/lib/client/connections";
import { queryKeys } from "@/lib/client/query-keys";

type ReconcileSetting = "reconcileAfterFullCycle" | "reconcileAlertEmail";

/**
 * One of the connection's reconcile settings, where an admin looks at reports. Saved on change, with the
 * connection's version, like the settings page (a concurrent edit is refused, not lost).
 */
export function ReconcileSettingToggle({
  connectionId,
  canWrite,
  setting,
  label,
  hint,
}: {
  connectionId: string;
  canWrite: boolean;
  setting: ReconcileSetting;
  label: string;
  hint: ReactNode;
}) {
  const connection = useConnection(connectionId);
  const api = useConnectionApi(connectionId);
  const queryClient = useQueryClient();
  // What the admin clicked, shown at once; the saved value takes over once the save answers.
  const [clicked, setClicked] = useState<boolean | null>(null);
  const save = useMutation({
    mutationFn: (value: boolean) =>
      api.update({ expectedVersion: connection.data!.version, settings: { [setting]: value } }),
    onSuccess: (updated) => queryClient.setQueryData(queryKeys.connections.detail(connectionId), updated),
    onSettled: () => setClicked(null),
  });
  if (!connection.data) return null;
  return (
    <div className="space-y-2">
      <div className="flex items-start gap-2">
        <input
          id={setting}
          type="checkbox"
          className="mt-1"
          checked={clicked ?? connection.data[setting]}
          disabled={!canWrite || save.isPending}
          onChange={(event) => {
            setClicked(event.target.checked);
            save.mutate(event.target.checked);
          }}
          aria-describedby={`${setting}-hint`}
        />
        <div>
          <label htmlFor={setting} className="text-sm">
            {label}
          </label>
          <p id={`${setting}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
            {hint}
          </p>
        </div>
      </div>
      {save.error && <Alert tone="error">{describeProblem(save.error)}</Alert>}
    </div>
  );
}
