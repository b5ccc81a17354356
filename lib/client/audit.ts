"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { AuditEntry, AuditPage } from "@/lib/contracts/audit";

/** Who changed what, newest first, a page at a time. */
export function useAuditLog(connectionId: string) {
  const call = useApiCall();
  return useInfiniteQuery({
    queryKey: queryKeys.connections.audit(connectionId),
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      call("listAudit", { params: { connectionId }, query: { cursor: pageParam || undefined }, signal }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}
