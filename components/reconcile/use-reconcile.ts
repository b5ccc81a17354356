"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "@/lib/client/api";
import { queryKeys } from "@/lib/client/query-keys";
import type { ReconcileFindingDto, ReconcileRunDto } from "@/lib/server/reconcile";
import type { ReconcileActionRequest, ReconcileActionResult } from "@/lib/server/reconcile-actions";

export type { ReconcileFindingDto, ReconcileRunDto, ReconcileActionResult };

export const CATEGORY_LABELS: Record<string, string> = {
  orphan: "Orphan",
  drifted: "Drifted",
  missing: "Missing in Dialpad",
  suspendedInDialpad: "Suspended in Dialpad",
  activeInDialpad: "Active in Dialpad",
};

export const REASON_LABELS: Record<string, string> = {
  neverLinked: "Never linked",
  linkLost: "Link lost",
  collides: "Matching attribute collides",
};

/** The latest report; polled while it is queued or running. */
export function useReconcileRun(connectionId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.reconcile(connectionId),
    queryFn: ({ signal }) =>
      api<{ run: ReconcileRunDto | null }>(`/api/connections/${connectionId}/reconcile`, { signal }),
    refetchInterval: (query) => {
      const status = query.state.data?.run?.status;
      return status === "queued" || status === "running" ? 1_000 : false;
    },
  });
}

export function useReconcileMutations(connectionId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.reconcileAll(connectionId) });
  const run = useMutation({
    mutationFn: () => api<ReconcileRunDto>(`/api/connections/${connectionId}/reconcile`, { method: "POST" }),
    onSuccess: refresh,
  });
  const act = useMutation({
    mutationFn: (body: ReconcileActionRequest) =>
      api<ReconcileActionResult>(`/api/connections/${connectionId}/reconcile/actions`, {
        method: "POST",
        body,
      }),
    onSuccess: (result) => {
      if (result.dryRun) return;
      refresh();
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.logsAll(connectionId) });
    },
  });
  return { run, act };
}

/** A finished report's count of one category (users unless said otherwise). */
export function countOf(run: ReconcileRunDto | null | undefined, category: string, groups = false): number {
  const counts = run?.counts as
    { users?: Record<string, number>; groups?: Record<string, number> } | undefined;
  return (groups ? counts?.groups : counts?.users)?.[category] ?? 0;
}

export type { ReconcileFindingDto as Finding };
export type FindingPage = {
  run: ReconcileRunDto | null;
  items: ReconcileFindingDto[];
  nextCursor: string | null;
};
