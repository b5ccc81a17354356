"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { Mappings } from "@/lib/contracts/mappings";
import type { TMappingConfig } from "@/lib/mapping";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { ExplainResult, ExpressionPreview, Mappings } from "@/lib/contracts/mappings";

/**
 * The server adds a convenience `actions` index to the config it returns; only users and groups are
 * the document, so the draft keeps just those (PUT would drop the rest anyway).
 */
function onlyDocument(config: Mappings["config"]): TMappingConfig {
  return { users: config.users, groups: config.groups };
}

export function useMappings(connectionId: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.mappings(connectionId),
    queryFn: async ({ signal }) => {
      const response = await call("getMappings", { params: { connectionId }, signal });
      return { ...response, config: onlyDocument(response.config) };
    },
    // A refetch must not look like someone else's change while an admin is editing the draft.
    refetchOnWindowFocus: false,
  });
}

/** Every write here changes the connection (version, watermark) and adds an audit entry. */
function useAfterMappingWrite(connectionId: string) {
  const queryClient = useQueryClient();
  return (data: Mappings) => {
    queryClient.setQueryData(queryKeys.connections.mappings(connectionId), {
      ...data,
      config: onlyDocument(data.config),
    });
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.detail(connectionId), exact: true });
    void queryClient.invalidateQueries({ queryKey: queryKeys.connections.audit(connectionId) });
  };
}

export function useSaveMappings(connectionId: string) {
  const call = useApiCall();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    mutationFn: (config: TMappingConfig) => call("putMappings", { params: { connectionId }, body: config }),
    onSuccess: after,
  });
}

export function useRestoreDefaults(connectionId: string) {
  const call = useApiCall();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    mutationFn: () => call("restoreDefaultMappings", { params: { connectionId } }),
    onSuccess: after,
  });
}

export function useImportSchema(connectionId: string) {
  const call = useApiCall();
  const after = useAfterMappingWrite(connectionId);
  return useMutation({
    // The file as read: whether it is an Entra schema document is the server's call (422 per path).
    mutationFn: (document: unknown) =>
      call("importSchema", { params: { connectionId }, body: document as Record<string, unknown> }),
    onSuccess: (data) => after({ isDefault: false, config: data.config }),
  });
}

export function useExportSchema(connectionId: string) {
  const call = useApiCall();
  return useMutation({
    mutationFn: () => call("exportSchema", { params: { connectionId } }),
  });
}

/** Preview is a read (the API evaluates and stores nothing), so it is a query keyed by its inputs. */
export function usePreview(connectionId: string, expression: string, objectId: string | null) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.mappingPreview(connectionId, expression, objectId),
    queryFn: ({ signal }) =>
      call("previewExpression", {
        params: { connectionId },
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
