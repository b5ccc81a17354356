"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { PreviewKind } from "@/lib/contracts/previews";
import { ApiProblem, useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type { Preview, PreviewKind, PreviewOperation } from "@/lib/contracts/previews";

/**
 * The latest preview, one page of its operations (optionally of one kind); null when there is none yet.
 * Polls while it computes or applies.
 */
export function useLatestPreview(
  connectionId: string,
  page: { kind: PreviewKind | "all"; offset: number; limit: number },
) {
  const call = useApiCall();
  const { kind, offset, limit } = page;
  return useQuery({
    queryKey: queryKeys.connections.preview(connectionId, kind, offset),
    queryFn: async ({ signal }) => {
      try {
        return await call("getPreview", {
          params: { connectionId, previewId: "latest" },
          query: { offset, limit, ...(kind !== "all" ? { kind } : {}) },
          signal,
        });
      } catch (error) {
        // No preview yet is a state of the page, not an error.
        if (error instanceof ApiProblem && error.status === 404) return null;
        throw error;
      }
    },
    refetchInterval: (query) =>
      query.state.data?.status === "computing" || query.state.data?.status === "applying" ? 1_000 : false,
  });
}

/** Request a new preview, or apply or discard one (each answers the preview as it now is). */
export function usePreviewApi(connectionId: string) {
  const call = useApiCall();
  return useMemo(
    () => ({
      request: () => call("requestPreview", { params: { connectionId } }),
      decide: (id: string, decision: "apply" | "discard") =>
        call(decision === "apply" ? "applyPreview" : "discardPreview", {
          params: { connectionId, previewId: id },
        }),
    }),
    [call, connectionId],
  );
}
