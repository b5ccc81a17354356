/**
 * The result of provisioning one object, shaped like Entra's provisionOnDemand response and
 * provisioningObjectSummary, so admins and scripts that know Entra read it without a translation.
 */
export type ProvisioningAction = "Create" | "Update" | "Delete" | "Disable" | "StagedDelete" | "Other";
export type ProvisioningStatus = "Success" | "Failure" | "Skipped" | "Warning";
export type StepType = "Import" | "Scoping" | "Matching" | "Processing" | "ReferenceResolution" | "Export";
export type StepStatus = "success" | "failure" | "skipped" | "warning";

export interface ProvisioningStep {
  name: string;
  type: StepType;
  status: StepStatus;
  description: string;
  timestamp: string;
  details: Record<string, unknown>;
}

export interface ModifiedProperty {
  displayName: string;
  oldValue: unknown;
  newValue: unknown;
}

export interface StatusInfo {
  status: ProvisioningStatus;
  errorCode?: string;
  reason?: string;
  additionalDetails?: string;
  errorCategory?: "failure" | "nonServiceFailure" | "success";
  recommendedAction?: string;
}

export interface Identity {
  id: string | null;
  type: "User" | "Group";
  displayName: string | null;
  details?: Record<string, unknown>;
}

export interface OnDemandResult {
  action: ProvisioningAction;
  status: ProvisioningStatus;
  changeId: string;
  logId: string | null;
  startTime: string;
  endTime: string;
  reportableIdentifier: string | null;
  sourceIdentity: Identity;
  targetIdentity: Identity;
  sourceSystem: { name: string };
  targetSystem: { name: string };
  modifiedProperties: ModifiedProperty[];
  provisioningSteps: ProvisioningStep[];
  statusInfo: StatusInfo;
}
