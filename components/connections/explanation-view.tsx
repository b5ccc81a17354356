"use client";

import { Alert } from "@/components/ui/alert";
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
      {/* Values wrap between words (a job title never splits as "Speciali st"); identifiers may
            break anywhere, and a value too long for the card scrolls. */}
      {explanation.attributes.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="mb-2 text-left text-sm font-semibold">
              Attribute mappings, evaluated for this user (
              {explanation.operation === "create" ? "on creation" : "on update"})
            </caption>
            <thead className="text-xs text-slate-600 dark:text-slate-400">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Target
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Mapping
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Value
                </th>
                <th scope="col" className="py-1 font-medium">
                  Outcome
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {explanation.attributes.map((attribute) => (
                <tr key={attribute.target}>
                  <td className="py-1 pr-3 font-mono text-xs [overflow-wrap:anywhere]">{attribute.target}</td>
                  <td className="py-1 pr-3 font-mono text-xs [overflow-wrap:anywhere]">
                    {describeMapping(attribute)}
                  </td>
                  <td className="py-1 pr-3 break-words">
                    {formatValue(attribute.value)}
                    {attribute.usedDefault && " (default value)"}
                  </td>
                  <td className="py-1">
                    {attribute.outcome === "error" ? (
                      <span className="text-red-700 dark:text-red-400">fails: {attribute.message}</span>
                    ) : (
                      attributeOutcomeText(attribute.outcome, decision)
                    )}
                    {attribute.matchingPriority > 0 && ` · matching #${attribute.matchingPriority}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
