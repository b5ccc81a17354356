"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import type { z } from "zod";
import type {
  ZCreateConnection,
  ZTargetSelfTest,
  ZTestConnection,
  ZUpdateConnection,
  ZWebhookTest,
} from "@/lib/contracts/connections";
import { useApiCall } from "./api";
import { queryKeys } from "./query-keys";

export type {
  Connection,
  SelfTestStatus,
  TargetSelfTestReport,
  TestConnectionResult,
  WebhookTestResult,
} from "@/lib/contracts/connections";
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "@/lib/contracts/webhook-event-types";

export function useConnections() {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.list(),
    queryFn: ({ signal }) => call("listConnections", { signal }),
  });
}

export function useConnection(id: string) {
  const call = useApiCall();
  return useQuery({
    queryKey: queryKeys.connections.detail(id),
    queryFn: ({ signal }) => call("getConnection", { params: { connectionId: id }, signal }),
  });
}

/** Creates a connection; the list is read again so it shows the new one. */
export function useCreateConnection() {
  const call = useApiCall();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: z.input<typeof ZCreateConnection>) => call("createConnection", { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.connections.list() }),
  });
}

/** Deletes a connection and its history; the list is read again without it. */
export function useDeleteConnection(connectionId: string) {
  const call = useApiCall();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => call("deleteConnection", { params: { connectionId } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.connections.list() }),
  });
}

/** The writes and checks of one connection's settings page, for the page's own mutations. */
export function useConnectionApi(connectionId: string) {
  const call = useApiCall();
  return useMemo(() => {
    const params = { connectionId };
    return {
      update: (body: z.input<typeof ZUpdateConnection>) => call("updateConnection", { params, body }),
      testConnection: (body: z.input<typeof ZTestConnection>) => call("testConnection", { params, body }),
      targetSelfTest: (body: z.input<typeof ZTargetSelfTest>) => call("targetSelfTest", { params, body }),
      webhookTest: (body: z.input<typeof ZWebhookTest>) => call("webhookTest", { params, body }),
    };
  }, [call, connectionId]);
}
