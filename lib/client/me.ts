"use client";

import { useQuery } from "@tanstack/react-query";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { Me } from "@/lib/contracts/system";

export function useMe() {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => call("me", { signal }),
    staleTime: 60_000,
  });
}
