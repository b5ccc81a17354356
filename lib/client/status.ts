"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CurrentCycle, RestartCriterion, Status } from "@/lib/contracts/status";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export {
  COUNT_FIELDS,
  type CountField,
  type RestartCriterion,
  type Status,
  type StatusCode,
} from "@/lib/contracts/status";

/**
 * The cycle running now. currentCycle comes from the job store; lastCycle is read in a separate query of
 * the same response, so right after Start one can already say "running" while the other does not yet.
 * Either counts, so polling never stops while a cycle is really running.
 */
export function runningCycle(data: Status | undefined): CurrentCycle | null {
  if (!data) return null;
  if (data.currentCycle) return data.currentCycle;
  const last = data.lastCycle;
  if (last?.status !== "running") return null;
  return {
    id: last.id,
    type: last.type,
    startedAt: last.startedAt,
    stopRequested: false,
    progress: { completedUnits: last.completedUnits, totalUnits: last.totalUnits, units: "pages" },
  };
}

/** How long after Start or Restart to keep polling for the queued cycle to begin. */
const AWAIT_CYCLE_MS = 30_000;

/**
 * Polls every 2 s only while a cycle runs (or was just queued by Start/Restart and has not begun yet),
 * so an idle overview costs nothing.
 */
export function useStatus(connectionId: string) {
  const call = useApiCall();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.connections.status(connectionId),
    queryFn: ({ signal }) => call("getStatus", { params: { connectionId }, signal }),
    refetchInterval: (query) => {
      if (runningCycle(query.state.data)) return 2_000;
      const queuedAt = queryClient.getQueryData<number>(awaitingKey(connectionId));
      return queuedAt && Date.now() - queuedAt < AWAIT_CYCLE_MS ? 2_000 : false;
    },
  });
}

/** Client-only marker (never fetched): when Start or Restart last queued a cycle. */
function awaitingKey(connectionId: string) {
  return [...queryKeys.connections.status(connectionId), "awaiting-cycle"] as const;
}

/**
 * Start, Stop, Restart and Allow deletes. Each changes the status, may write provisioning log entries
 * (allow-deletes executes held deletions at once) and an audit entry, so the whole connection's cached
 * data is invalidated: the connection key is the prefix of status, logs and audit keys.
 */
export function useControlMutations(connectionId: string) {
  const call = useApiCall();
  const queryClient = useQueryClient();
  const params = { connectionId };
  const onSettled = () =>
    queryClient.invalidateQueries({ queryKey: queryKeys.connections.detail(connectionId) });
  // Mark before invalidating, so the refetch that follows already sees that a cycle is on its way.
  const onQueued = () => queryClient.setQueryData(awaitingKey(connectionId), Date.now());
  return {
    start: useMutation({
      mutationFn: () => call("start", { params }),
      onSuccess: onQueued,
      onSettled,
    }),
    stop: useMutation({
      mutationFn: () => call("stop", { params }),
      onSettled,
    }),
    restart: useMutation({
      mutationFn: (criteria: RestartCriterion[]) => call("restart", { params, body: { criteria } }),
      onSuccess: onQueued,
      onSettled,
    }),
    allowDeletes: useMutation({
      mutationFn: () => call("allowDeletes", { params }),
      onSettled,
    }),
  };
}
