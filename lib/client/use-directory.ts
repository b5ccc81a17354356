"use client";

import { useQuery } from "@tanstack/react-query";
import { useApi } from "./api";
import { queryKeys } from "./query-keys";

export interface DirectoryUser {
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
  mail: string | null;
  /**
   * From the user search only: assigned to the app (so in scope when the app provisions assigned users
   * only); null when the app provisions all users and nothing was checked.
   */
  assigned?: boolean | null;
}

export interface DirectoryGroup {
  id: string;
  displayName: string | null;
  mail: string | null;
  description: string | null;
}

export interface GroupMembers {
  members: DirectoryUser[];
  /** How many direct user members match (only the first 50 are listed). */
  total: number;
  /** false: the group is so large that only its first members were read. */
  complete: boolean;
}

export function useDirectoryUsers(connectionId: string, search: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, "users", search),
    queryFn: ({ signal }) =>
      api<{ users: DirectoryUser[] }>(
        `/api/connections/${connectionId}/directory/users?search=${encodeURIComponent(search)}`,
        { signal },
      ),
    enabled: search.length > 0,
  });
}

export function useDirectoryGroups(connectionId: string, search: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, "groups", search),
    queryFn: ({ signal }) =>
      api<{ groups: DirectoryGroup[] }>(
        `/api/connections/${connectionId}/directory/groups?search=${encodeURIComponent(search)}`,
        { signal },
      ),
    enabled: search.length > 0,
  });
}

export function useGroupMembers(connectionId: string, groupId: string | null, search: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.directory(connectionId, `group-members:${groupId ?? ""}`, search),
    queryFn: ({ signal }) =>
      api<GroupMembers>(
        `/api/connections/${connectionId}/directory/groups/${encodeURIComponent(groupId ?? "")}/members` +
          (search ? `?search=${encodeURIComponent(search)}` : ""),
        { signal },
      ),
    enabled: groupId !== null,
  });
}
