"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { type QueryOf, useApiCall, useApiDownload } from "./api";
import { queryKeys } from "./query-keys";

export type { LogPage, ProvisioningLog } from "@/lib/contracts/logs";
export { LOG_ACTIONS, LOG_STATUSES } from "@/lib/contracts/logs";

/** The log table's filters as the form holds them (empty ones undefined); the server validates them. */
export type LogFilters = Record<
  "from" | "to" | "status" | "action" | "identity" | "cycleId" | "changeId",
  string | undefined
>;

/** Newest first, a page at a time (keyset cursor), for the current filters. */
export function useLogs(connectionId: string, filters: LogFilters) {
  const call = useApiCall();
  return useInfiniteQuery({
    queryKey: queryKeys.connections.logs(connectionId, filters),
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      call("listLogs", {
        params: { connectionId },
        query: { ...filters, cursor: pageParam || undefined } as QueryOf<"listLogs">,
        signal,
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useLogApi(connectionId: string) {
  const call = useApiCall();
  const download = useApiDownload();
  return useMemo(
    () => ({
      /** Retry one failed change now; the retry is logged as a new entry linked to this one. */
      replay: (logId: string) => call("replayLogEntry", { params: { connectionId, logId } }),
      /** The export as a file response (CSV or JSON), with the current filters. */
      exportFile: (format: "csv" | "json", filters: LogFilters) =>
        download("exportLogs", {
          params: { connectionId },
          query: { ...filters, format } as QueryOf<"exportLogs">,
        }),
    }),
    [call, download, connectionId],
  );
}
