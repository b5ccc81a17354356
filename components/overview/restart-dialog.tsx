"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { describeProblem } from "@/lib/client/api";
import type { RestartCriterion } from "@/lib/client/status";

/**
 * Entra's reset criteria (Graph synchronizationJob: restart), each in plain words with what it does in our
 * engine; the API name is shown second, for admins who know the portal or script the API.
 */
const CRITERIA: { value: RestartCriterion; label: string; effect: string }[] = [
  {
    value: "Watermark",
    label: "Read the whole directory again",
    effect:
      "Forget where the last cycle stopped reading the directory. The next cycle is an initial cycle that reads every user and group again.",
  },
  {
    value: "Escrows",
    label: "Retry failed objects from scratch",
    effect: "Drop the objects that failed and are waiting to be retried, so they are retried from scratch.",
  },
  {
    value: "QuarantineState",
    label: "Leave quarantine",
    effect: "Leave quarantine now and forget its retry schedule, so cycles run at the normal interval again.",
  },
  {
    value: "Full",
    label: "Forget the links and match every object again",
    effect:
      "Also forget which Entra object is linked to which Dialpad user or group. The next cycle matches them again by the matching attribute; nothing is deleted in Dialpad.",
  },
  {
    value: "ForceDeletes",
    label: "Run the held deletions",
    effect:
      "Execute the deletions and disables held by accidental-deletion prevention before the cycle runs (the same as Allow deletes).",
  },
];

export function RestartDialog({
  open,
  isPending,
  error,
  onRestart,
  onClose,
}: {
  open: boolean;
  isPending: boolean;
  error: unknown;
  onRestart: (criteria: RestartCriterion[]) => void;
  onClose: () => void;
}) {
  const [selected, setSelected] = useState<RestartCriterion[]>([]);
  const close = () => {
    // A later opening starts from the portal's plain Restart again, not from the last choice.
    setSelected([]);
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      title="Restart provisioning"
      description="Restart clears state the provisioning engine keeps between cycles, then queues a cycle right away."
      footer={
        <>
          <Button data-autofocus variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button onClick={() => onRestart(selected)} disabled={isPending}>
            {isPending ? "Restarting…" : "Restart provisioning"}
          </Button>
        </>
      }
    >
      <fieldset className="space-y-3 text-sm">
        <legend className="font-medium">What to reset</legend>
        <p className="text-slate-600 dark:text-slate-400">
          Leave every box unchecked for a standard restart: it does the first three below and keeps the links
          between Entra and Dialpad objects. Check boxes to reset only what you check instead, or to go
          further with the last two.
        </p>
        {CRITERIA.map((criterion) => {
          const id = `restart-${criterion.value}`;
          return (
            <div key={criterion.value} className="flex items-start gap-2">
              <input
                id={id}
                type="checkbox"
                className="mt-1"
                aria-describedby={`${id}-effect`}
                checked={selected.includes(criterion.value)}
                onChange={(event) =>
                  setSelected((current) =>
                    event.target.checked
                      ? [...current, criterion.value]
                      : current.filter((value) => value !== criterion.value),
                  )
                }
              />
              <div>
                <label htmlFor={id} className="font-semibold">
                  {criterion.label}
                </label>{" "}
                <span className="font-mono text-xs text-slate-500 dark:text-slate-400">
                  ({criterion.value})
                </span>
                <p id={`${id}-effect`} className="text-slate-700 dark:text-slate-300">
                  {criterion.effect}
                </p>
              </div>
            </div>
          );
        })}
      </fieldset>
      {error ? (
        <Alert tone="error" title="Could not restart" className="mt-4">
          {describeProblem(error)}
        </Alert>
      ) : null}
    </Dialog>
  );
}
