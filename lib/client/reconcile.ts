"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import type {
  ReconcileActionRequest,
  ReconcileCounts,
  ReconcileFindingQuery,
  ReconcileRun,
} from "@/lib/contracts/reconcile";
import { useApiCall, useApiDownload } from "./api";
import { queryKeys } from "./query-keys";

export type {
  OrphanReason,
  ReconcileActionRequest,
  ReconcileActionResult,
  ReconcileCategory,
  ReconcileFinding,
  ReconcileRun,
} from "@/lib/contracts/reconcile";
export { ORPHAN_REASONS, RECONCILE_CATEGORIES } from "@/lib/contracts/reconcile";

/** The findings table's filters (empty ones undefined); the server validates them. */
export type FindingFilters = Partial<
  Pick<ReconcileFindingQuery, "category" | "objectType" | "reason" | "attribute" | "search">
>;

/** The latest report; polled while it is queued or running. */
export function useReconcileRun(connectionId: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.reconcile(connectionId),
    queryFn: ({ signal }) => call("getReconcile", { params: { connectionId }, signal }),
    refetchInterval: (query) => {
      const status = query.state.data?.run?.status;
      return status === "queued" || status === "running" ? 1_000 : false;
    },
  });
}

/** One report's findings for the current filters, a page of 50 at a time (keyset cursor). */
export function useReconcileFindings(connectionId: string, runId: string, filters: FindingFilters) {
  const call = useApiCall();
  const query = { ...filters, runId };
  return useInfiniteQuery({
    queryKey: queryKeys.connections.reconcileFindings(connectionId, query),
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      call("listReconcileFindings", {
        params: { connectionId },
        query: { ...query, limit: 50, cursor: pageParam || undefined },
        signal,
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** Run a report, and preview or apply an action (an applied one refreshes the report and the logs). */
export function useReconcileMutations(connectionId: string) {
  const call = useApiCall();
  const queryClient = useQueryClient();
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.reconcileAll(connectionId) });
  const run = useMutation({
    mutationFn: () => call("requestReconcile", { params: { connectionId } }),
    onSuccess: refresh,
  });
  const act = useMutation({
    mutationFn: (body: ReconcileActionRequest) => call("reconcileAction", { params: { connectionId }, body }),
    onSuccess: (result) => {
      if (result.dryRun) return;
      refresh();
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.logsAll(connectionId) });
    },
  });
  return { run, act };
}

/** The export of one report's findings as a file response (CSV or JSON), with the current filters. */
export function useReconcileExport(connectionId: string) {
  const download = useApiDownload();
  return useCallback(
    (format: "csv" | "json", runId: string, filters: FindingFilters) =>
      download("exportReconcileFindings", {
        params: { connectionId },
        query: { ...filters, runId, format },
      }),
    [download, connectionId],
  );
}

/** A finished report's count of one category (users unless said otherwise); 0 before it finished. */
export function countOf(run: ReconcileRun | null | undefined, category: string, groups = false): number {
  const counts = run?.counts as Partial<ReconcileCounts> | undefined;
  return (groups ? counts?.groups : counts?.users)?.[category] ?? 0;
}
