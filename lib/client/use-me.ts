"use client";

import { useQuery } from "@tanstack/react-query";
import { useApi } from "./api";
import { queryKeys } from "./query-keys";

export interface Me {
  objectId: string;
  upn: string;
  name: string;
  roles: string[];
  canWrite: boolean;
}

export function useMe() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => api<Me>("/api/me", { signal }),
    staleTime: 60_000,
  });
}
