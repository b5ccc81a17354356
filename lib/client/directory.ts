"use client";

import { useQuery } from "@tanstack/react-query";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { DirectoryGroup, DirectoryUser, GroupMembers } from "@/lib/contracts/directory";

export function useDirectoryUsers(connectionId: string, search: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, "users", search),
    queryFn: ({ signal }) =>
      call("searchDirectoryUsers", { params: { connectionId }, query: { search }, signal }),
    enabled: search.length > 0,
  });
}

export function useDirectoryGroups(connectionId: string, search: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, "groups", search),
    queryFn: ({ signal }) =>
      call("searchDirectoryGroups", { params: { connectionId }, query: { search }, signal }),
    enabled: search.length > 0,
  });
}

export function useGroupMembers(connectionId: string, groupId: string | null, search: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, `group-members:${groupId ?? ""}`, search),
    queryFn: ({ signal }) =>
      call("listDirectoryGroupMembers", {
        params: { connectionId, groupId: groupId ?? "" },
        query: { search: search || undefined },
        signal,
      }),
    enabled: groupId !== null,
  });
}
