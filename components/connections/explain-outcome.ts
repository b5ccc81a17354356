import type { AttributeExplanation } from "@/lib/mapping";
import type { OnDemandResult } from "@/lib/client/on-demand";

const NOT_EXPORTED: Record<Exclude<AttributeExplanation["outcome"], "exports" | "error">, string> = {
  null: "not sent: the value is empty",
  ignored: "not sent: IgnoreFlowIfNullOrEmpty",
  notOnUpdate: "not sent on update: applied only during creation",
};

/**
 * What Why? says an attribute's value does. A mapping that would export its value only reaches Dialpad
 * when the decision is to create or update the user: out of scope, disabled, failing or already up to
 * date, nothing is sent, and saying "sent" there would contradict the decision shown above it.
 */
export function attributeOutcomeText(
  outcome: Exclude<AttributeExplanation["outcome"], "error">,
  decision: Pick<OnDemandResult, "action" | "status" | "statusInfo" | "provisioningSteps">,
): string {
  if (outcome !== "exports") return NOT_EXPORTED[outcome];
  const outOfScope = decision.provisioningSteps.some(
    (step) => step.type === "Scoping" && step.status !== "success",
  );
  if (outOfScope) return "not sent (out of scope)";
  const wouldWrite = decision.statusInfo.errorCode === "ExplainOnly";
  if (wouldWrite && decision.action === "Create") return "sent";
  if (wouldWrite && decision.action === "Update") return "sent if changed";
  if (wouldWrite)
    return `not sent (the user would be ${decision.action === "Disable" ? "disabled" : "deleted"})`;
  if (decision.status === "Failure") return "not sent (provisioning fails, see above)";
  if (decision.statusInfo.errorCode === "RedundantExport") return "not sent (already up to date)";
  return "not sent (nothing is provisioned, see above)";
}
