"use client";

import { Badge } from "@/components/ui/badge";

interface Step {
  name: string;
  type?: string;
  status: string;
  description: string;
  details?: Record<string, unknown>;
}

const TONE: Record<string, "success" | "error" | "neutral" | "warning"> = {
  success: "success",
  Success: "success",
  failure: "error",
  Failure: "error",
  skipped: "neutral",
  Skipped: "neutral",
  warning: "warning",
  Warning: "warning",
};

/** Entra's provisioning steps as a timeline; each step's details expand in place. */
export function StepList({ steps }: { steps: unknown }) {
  const list = Array.isArray(steps) ? (steps as Step[]) : [];
  if (list.length === 0)
    return <p className="text-sm text-slate-500 dark:text-slate-400">No steps recorded.</p>;
  return (
    <ol className="mt-2 space-y-2 border-l-2 border-slate-200 pl-4 dark:border-slate-700">
      {list.map((step, index) => (
        <li key={`${step.name}-${index}`}>
          <div className="flex items-center gap-2">
            <span className="text-sm font-medium">
              {index + 1}. {step.description}
            </span>
            <Badge tone={TONE[step.status] ?? "neutral"}>{step.status}</Badge>
          </div>
          {step.details && Object.keys(step.details).length > 0 && (
            <details className="mt-1 text-sm">
              <summary className="cursor-pointer text-blue-700 dark:text-blue-400">View details</summary>
              <dl className="mt-1 grid grid-cols-[minmax(8rem,max-content)_1fr] gap-x-4 gap-y-1">
                {Object.entries(step.details).map(([key, value]) => (
                  <div key={key} className="contents">
                    <dt className="font-mono text-xs text-slate-600 dark:text-slate-400">{key}</dt>
                    <dd className="min-w-0 [overflow-wrap:anywhere]">
                      {typeof value === "string" ? value : JSON.stringify(value)}
                    </dd>
                  </div>
                ))}
              </dl>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
