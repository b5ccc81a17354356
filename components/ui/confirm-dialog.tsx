"use client";

import type { ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/**
 * A yes/no question before an action that cannot be taken back. `summary` says what will happen, one
 * sentence per consequence with its count ("121 users will be disabled"), above any explanation in
 * `children`. Cancel has focus first.
 */
export function ConfirmDialog({
  open,
  title,
  summary,
  summaryTestId,
  children,
  confirmLabel,
  pendingLabel = "Working…",
  isPending,
  confirmDisabled,
  size,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  summary?: string[];
  summaryTestId?: string;
  children?: ReactNode;
  confirmLabel: string;
  pendingLabel?: string;
  isPending?: boolean;
  /** A further condition than "not pending" (a box to tick first, nothing to apply). */
  confirmDisabled?: boolean;
  size?: "md" | "lg";
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={title}
      size={size}
      footer={
        <>
          <Button data-autofocus variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={isPending || confirmDisabled}>
            {isPending ? pendingLabel : confirmLabel}
          </Button>
        </>
      }
    >
      <div className="space-y-2 text-sm">
        {summary && summary.length > 0 && (
          <ul
            className="list-disc pl-5 font-medium"
            aria-label="What will happen"
            data-testid={summaryTestId}
          >
            {summary.map((sentence) => (
              <li key={sentence}>{sentence}</li>
            ))}
          </ul>
        )}
        {children}
      </div>
    </Dialog>
  );
}
