"use client";

import { useQuery } from "@tanstack/react-query";
import type { ConnectionDto } from "@/lib/server/connections";
import { useApi } from "./api";
import { queryKeys } from "./query-keys";

export function useConnection(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.detail(id),
    queryFn: ({ signal }) => api<ConnectionDto>(`/api/connections/${id}`, { signal }),
  });
}
