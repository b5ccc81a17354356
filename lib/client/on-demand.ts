"use client";

import { useMemo } from "react";
import type { OnDemandSubject } from "@/lib/contracts/on-demand";
import { useApiCall } from "./api";

export type {
  AttributeExplanation,
  OnDemandResponse,
  OnDemandResult,
  OnDemandSubject,
  ProvisioningStep,
  UserExplanation,
} from "@/lib/contracts/on-demand";

/** Provision one user (or a group with up to five members) now, and "Why?" for one user. */
export function useOnDemandApi(connectionId: string) {
  const call = useApiCall();
  return useMemo(
    () => ({
      provision: (subject: OnDemandSubject) =>
        call("provisionOnDemand", { params: { connectionId }, body: { subjects: [subject] } }),
      explainUser: (objectId: string) => call("explainUser", { params: { connectionId, objectId } }),
    }),
    [call, connectionId],
  );
}
