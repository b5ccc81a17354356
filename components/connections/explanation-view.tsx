"use client";

import { Alert } from "@/components/ui/alert";
import { Table } from "@/components/ui/table";
import type { AttributeExplanation, UserExplanation } from "@/lib/client/on-demand";
import { attributeOutcomeText } from "./explain-outcome";
import { formatValue } from "./modified-properties";
import { StepList } from "./step-list";

function describeMapping(attribute: AttributeExplanation): string {
  if (attribute.type === "Direct") return `[${attribute.source}]`;
  if (attribute.type === "Constant") return `"${attribute.source}"`;
  return attribute.source;
}

/** "Why?": the decision the next provisioning would take, then every mapping with its value. */
export function ExplanationView({ explanation }: { explanation: UserExplanation }) {
  const { decision } = explanation;
  const wouldAct = decision.statusInfo.errorCode === "ExplainOnly";
  return (
    <div className="space-y-4">
      <Alert
        tone={wouldAct ? "info" : decision.status === "Failure" ? "error" : "warning"}
        title="Next provisioning"
      >
        <p data-testid="explain-decision">
          {wouldAct
            ? decision.statusInfo.reason
            : (decision.statusInfo.reason ?? `${decision.action}: ${decision.status}`)}
        </p>
        {decision.statusInfo.recommendedAction && (
          <p className="mt-1">Recommended action: {decision.statusInfo.recommendedAction}</p>
        )}
      </Alert>
      <StepList steps={decision.provisioningSteps} />
      {/* Identifiers may break anywhere; values wrap between words (see CellWrap). */}
      <Table
        variant="compact"
        caption={`Attribute mappings, evaluated for this user (${
          explanation.operation === "create" ? "on creation" : "on update"
        })`}
        captionVisible
        rows={explanation.attributes}
        rowKey={(attribute) => attribute.target}
        columns={[
          {
            header: "Target",
            wrap: "anywhere",
            className: "font-mono text-xs",
            cell: (attribute) => attribute.target,
          },
          {
            header: "Mapping",
            wrap: "anywhere",
            className: "font-mono text-xs",
            cell: (attribute) => describeMapping(attribute),
          },
          {
            header: "Value",
            cell: (attribute) => (
              <>
                {formatValue(attribute.value)}
                {attribute.usedDefault && " (default value)"}
              </>
            ),
          },
          {
            header: "Outcome",
            cell: (attribute) => (
              <>
                {attribute.outcome === "error" ? (
                  <span className="text-red-700 dark:text-red-400">fails: {attribute.message}</span>
                ) : (
                  attributeOutcomeText(attribute.outcome, decision)
                )}
                {attribute.matchingPriority > 0 && ` · matching #${attribute.matchingPriority}`}
              </>
            ),
          },
        ]}
      />
    </div>
  );
}
