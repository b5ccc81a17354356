"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useApi } from "@/lib/client/api";
import { queryKeys } from "@/lib/client/query-keys";
import type { ExplainResult, TMappingConfig } from "@/lib/mapping";

export interface MappingsResponse {
  isDefault: boolean;
  config: TMappingConfig;
}

export interface PreviewResponse {
  source: Record<string, unknown>;
  result: ExplainResult;
}

/**
 * The server adds a convenience `actions` index to the config it returns; only users and groups are
 * the document, so the draft keeps just those (PUT would drop the rest anyway).
 */
function onlyDocument(config: TMappingConfig): TMappingConfig {
  return { users: config.users, groups: config.groups };
}

export function useMappings(connectionId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.mappings(connectionId),
    queryFn: async ({ signal }) => {
      const response = await api<MappingsResponse>(`/api/connections/${connectionId}/mappings`, { signal });
      return { ...response, config: onlyDocument(response.config) };
    },
    // A refetch must not look like someone else's change while an admin is editing the draft.
    refetchOnWindowFocus: false,
  });
}

/** Every write here changes the connection (version, watermark) and adds an audit entry. */
function useAfterMappingWrite(connectionId: string) {
  const queryClient = useQueryClient();
  return (data: MappingsResponse) => {
    queryClient.setQueryData(queryKeys.connections.mappings(connectionId), {
      ...data,
      config: onlyDocument(data.config),
    });
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.detail(connectionId), exact: true });
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.audit(connectionId) });
  };
}

export function useSaveMappings(connectionId: string) {
  const api = useApi();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    mutationFn: (config: TMappingConfig) =>
      api<MappingsResponse>(`/api/connections/${connectionId}/mappings`, { method: "PUT", body: config }),
    onSuccess: after,
  });
}

export function useRestoreDefaults(connectionId: string) {
  const api = useApi();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    mutationFn: () =>
      api<MappingsResponse>(`/api/connections/${connectionId}/mappings/restore-defaults`, { method: "POST" }),
    onSuccess: after,
  });
}

export function useImportSchema(connectionId: string) {
  const api = useApi();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    mutationFn: (document: unknown) =>
      api<{ config: TMappingConfig; warnings: string[] }>(`/api/connections/${connectionId}/schema`, {
        method: "PUT",
        body: document,
      }),
    onSuccess: (data) => after({ isDefault: false, config: data.config }),
  });
}

export function useExportSchema(connectionId: string) {
  const api = useApi();
  return useMutation({
    mutationFn: () => api<unknown>(`/api/connections/${connectionId}/schema`),
  });
}

/** Preview is a read (the API evaluates and stores nothing), so it is a query keyed by its inputs. */
export function usePreview(connectionId: string, expression: string, objectId: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.connections.mappingPreview(connectionId, expression, objectId),
    queryFn: ({ signal }) =>
      api<PreviewResponse>(`/api/connections/${connectionId}/mappings/preview`, {
        method: "POST",
        body: { expression, ...(objectId ? { objectId } : {}) },
        signal,
      }),
    enabled: expression.trim().length > 0,
    staleTime: 30_000,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}
