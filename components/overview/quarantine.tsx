"use client";

import Link from "next/link";
import { useId } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { errorMessage, formatDate, heldBySourceShrink } from "./format";
import type { Status } from "@/lib/client/status";

/** The quarantine reasons Graph reports, explained with what the admin should do about each. */
function explainQuarantine(reason: string, error: unknown): { words: string; todo: string } {
  switch (reason) {
    case "TooManyDeletes":
      if (heldBySourceShrink(error))
        return {
          words:
            "Microsoft Entra ID returned far fewer assigned users than the last cycle, so every disable and delete was held.",
          todo: "If those users really left, press Allow deletes. If not, restore the app's assignments, the assigned groups' members or the Graph permissions in Entra ID, then Restart.",
        };
      return {
        words: "More deletions than your threshold were held.",
        todo: "Review the held deletions below. If they are expected, press Allow deletes. If not, fix the assignments or scoping in Entra ID first, then Restart.",
      };
    case "EncounteredQuarantineException":
      return {
        words: "Dialpad refused the credentials (or most requests failed the same way).",
        todo: "Generate a new Dialpad API key, enter it in Provisioning settings, Test Connection, Save, then Restart.",
      };
    case "EncounteredBaseEscrowThreshold":
    case "EncounteredTotalEscrowThreshold":
    case "EncounteredEscrowProportionThreshold":
      return {
        words: "Too many failures: too many users or groups failed to provision in a row.",
        todo: "Open the provisioning logs filtered to Failure, fix the cause shown under Troubleshooting & recommendations, then Restart.",
      };
    case "QuarantinedOnDemand":
      return { words: "An administrator put the job in quarantine.", todo: "Restart when you are ready." };
    case "IngestionInterrupted":
      return {
        words: "Reading the directory from Microsoft Graph was interrupted.",
        todo: "Check the Graph credentials in Provisioning settings, then Restart.",
      };
    default:
      return {
        words: `The provisioning engine reported "${reason}".`,
        todo: "Check the provisioning logs for failures, fix the cause, then Restart.",
      };
  }
}

export function QuarantineBanner({
  quarantine,
  connectionId,
}: {
  quarantine: NonNullable<Status["quarantine"]>;
  connectionId: string;
}) {
  const { words, todo } = explainQuarantine(quarantine.reason, quarantine.error);
  const detail = errorMessage(quarantine.error);
  return (
    <Alert tone="error" title="Provisioning has been quarantined">
      <p>
        <strong>Why:</strong> {words} <span className="font-mono text-xs">({quarantine.reason})</span>
      </p>
      {detail && <p className="mt-1 break-words">{detail}</p>}
      <p className="mt-1">
        <strong>Since:</strong> {formatDate(quarantine.currentBegan)}
        {quarantine.seriesCount > 1 &&
          ` (quarantined ${quarantine.seriesCount} times since ${formatDate(quarantine.seriesBegan)})`}
        {" · "}
        <strong>Next attempt:</strong> {formatDate(quarantine.nextAttempt)}
      </p>
      <p className="mt-1">
        <strong>What to do:</strong> {todo}{" "}
        <Link className="underline" href={`/connections/${connectionId}/logs`}>
          View provisioning logs
        </Link>
      </p>
    </Alert>
  );
}

export function HeldDeletions({
  held,
  bySourceShrink,
  disabledReason,
  isPending,
  onAllow,
}: {
  held: Status["heldChanges"];
  bySourceShrink: boolean;
  disabledReason: string | null;
  isPending: boolean;
  onAllow: () => void;
}) {
  const hintId = useId();
  return (
    <Card
      title="Held deletions"
      description={
        <>
          <span data-testid="held-count">{held.count}</span> disable or delete operation
          {held.count === 1 ? " was" : "s were"} held because{" "}
          {bySourceShrink
            ? "Microsoft Entra ID returned far fewer assigned users than the last cycle."
            : "they exceed the accidental deletion threshold."}
        </>
      }
    >
      <ul className="max-h-60 divide-y divide-slate-200 overflow-y-auto text-sm dark:divide-slate-800">
        {held.sample.map((item) => (
          <li key={`${item.objectType}-${item.sourceId}`} className="flex flex-wrap gap-x-3 py-1">
            <span className="font-medium">{item.displayName ?? item.sourceId}</span>
            <span className="text-slate-600 dark:text-slate-400">
              {item.objectType} · {item.action}
            </span>
            <span className="font-mono text-xs text-slate-500 dark:text-slate-400">{item.sourceId}</span>
          </li>
        ))}
      </ul>
      {held.count > held.sample.length && (
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
          Showing the first {held.sample.length} of {held.count}.
        </p>
      )}
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <Button
          variant="danger"
          onClick={onAllow}
          disabled={Boolean(disabledReason) || isPending}
          aria-describedby={hintId}
        >
          Allow deletes
        </Button>
        <p id={hintId} className="text-xs text-slate-600 dark:text-slate-400">
          {disabledReason ??
            "Not expected? Do not allow them: fix the cause (assignments, scoping, or the source directory), then Restart."}
        </p>
      </div>
    </Card>
  );
}
