"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "@/lib/client/api";
import { queryKeys } from "@/lib/client/query-keys";

export type StatusCode = "NotConfigured" | "NotRun" | "Active" | "Paused" | "Quarantine";
export type RestartCriterion = "Watermark" | "Escrows" | "QuarantineState" | "Full" | "ForceDeletes";

/**
 * GET /status as it arrives over JSON (dates are ISO strings). Written out here rather than derived from
 * lib/server/control.ts because the server type carries Date objects and Prisma's Json; counts are
 * partial on purpose: cycles recorded by older versions may lack newer fields.
 */
export interface StatusDto {
  code: StatusCode;
  provisioningEnabled: boolean;
  paused: boolean;
  quarantine: {
    reason: string;
    currentBegan: string | null;
    seriesBegan: string | null;
    nextAttempt: string | null;
    seriesCount: number;
    error: unknown;
  } | null;
  currentCycle: {
    id: string;
    type: string;
    startedAt: string;
    stopRequested: boolean;
    progress: { completedUnits: number | null; totalUnits: number | null; units: string };
  } | null;
  lastCycle: {
    id: string;
    type: string;
    status: string;
    dryRun: boolean;
    trigger: string;
    startedAt: string;
    endedAt: string | null;
    completedUnits: number | null;
    totalUnits: number | null;
    counts: Partial<Record<CountField, number>> | null;
    error: unknown;
    /** Absent from servers older than the source-shrink guard. */
    sourceUsers?: { read: number | null; before: number | null; held: boolean };
  } | null;
  lastSuccessfulCycle: {
    id: string;
    endedAt: string | null;
    counts: Partial<Record<CountField, number>> | null;
  } | null;
  heldChanges: {
    count: number;
    sample: { objectType: string; sourceId: string; action: string; displayName: string | null }[];
  };
  escrows: { objects: number; references: number };
  refusedAttributes: {
    objectType: string;
    attribute: string;
    scimType: string | null;
    detail: string;
    affectedObjects: number;
    summary: string;
    recommendedAction: string;
  }[];
  synchronizedEntryCountByType: Record<string, number>;
  nextCycleAt: string | null;
  jobId: string | null;
  cycleId: string | null;
  /** Set when the last cycle failed because a mapping reads an attribute Graph does not have. */
  configurationFailure: {
    message: string;
    attribute: string;
    recommendedAction: string;
    field?: string;
  } | null;
}

export type CountField = "created" | "updated" | "disabled" | "deleted" | "skipped" | "failed" | "held";

/**
 * The cycle running now. currentCycle comes from the job store; lastCycle is read in a separate query of
 * the same response, so right after Start one can already say "running" while the other does not yet.
 * Either counts, so polling never stops while a cycle is really running.
 */
export function runningCycle(data: StatusDto | undefined): StatusDto["currentCycle"] {
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
  const api = useApi();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.connections.status(connectionId),
    queryFn: ({ signal }) => api<StatusDto>(`/api/connections/${connectionId}/status`, { signal }),
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
  const api = useApi();
  const queryClient = useQueryClient();
  const base = `/api/connections/${connectionId}`;
  const onSettled = () =>
    queryClient.invalidateQueries({ queryKey: queryKeys.connections.detail(connectionId) });
  // Mark before invalidating, so the refetch that follows already sees that a cycle is on its way.
  const onQueued = () => queryClient.setQueryData(awaitingKey(connectionId), Date.now());
  return {
    start: useMutation({
      mutationFn: () => api<{ outcome: string }>(`${base}/start`, { method: "POST" }),
      onSuccess: onQueued,
      onSettled,
    }),
    stop: useMutation({
      mutationFn: () =>
        api<{ stoppingCycleId: string | null; cancelledUnits: number }>(`${base}/stop`, {
          method: "POST",
        }),
      onSettled,
    }),
    restart: useMutation({
      mutationFn: (criteria: RestartCriterion[]) =>
        api<{ outcome: string }>(`${base}/restart`, { method: "POST", body: { criteria } }),
      onSuccess: onQueued,
      onSettled,
    }),
    allowDeletes: useMutation({
      mutationFn: () =>
        api<{ executed: number; failed: number }>(`${base}/allow-deletes`, { method: "POST" }),
      onSettled,
    }),
  };
}
