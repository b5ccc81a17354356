"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { type QueryOf, useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { AuditEntry, AuditEntryObject, AuditPage } from "@/lib/contracts/audit";
export { AUDIT_ACTIVITIES } from "@/lib/contracts/audit";

/** The audit log's filters as the console's URL holds them (empty ones undefined); the server validates them. */
export type AuditLogFilters = Partial<Record<"actor" | "activity" | "from" | "to" | "object", string>>;

/** Who changed what, newest first, a page at a time, for the current filters. */
export function useAuditLog(connectionId: string, filters: AuditLogFilters = {}) {
  const call = useApiCall();
  return useInfiniteQuery({
    // Under the connection's audit key, so invalidating it refreshes every filtered view.
    queryKey: [...queryKeys.connections.audit(connectionId), filters],
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      call("listAudit", {
        params: { connectionId },
        query: { ...filters, cursor: pageParam || undefined } as QueryOf<"listAudit">,
        signal,
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}
