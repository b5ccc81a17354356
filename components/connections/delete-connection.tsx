"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { describeProblem } from "@/lib/client/api";
import { useDeleteConnection, type Connection } from "@/lib/client/connections";

/** The end of a connection's life: deleted here with its history, never in Dialpad or Entra. */
export function DeleteConnection({ connection, canWrite }: { connection: Connection; canWrite: boolean }) {
  const router = useRouter();
  const remove = useDeleteConnection(connection.id);
  const [open, setOpen] = useState(false);
  return (
    <Card
      title="Delete this connection"
      description="Removes the connection and its history from this console. Turn provisioning off first."
    >
      <Button
        variant="danger"
        disabled={!canWrite}
        aria-describedby={canWrite ? undefined : "delete-connection-readonly"}
        onClick={() => setOpen(true)}
      >
        Delete connection…
      </Button>
      {!canWrite && (
        <p id="delete-connection-readonly" className="mt-2 text-sm text-slate-600 dark:text-slate-400">
          Your role can view this connection but not delete it (Reader).
        </p>
      )}
      <ConfirmDialog
        open={open}
        title={`Delete ${connection.name}`}
        summary={[
          "The connection, its settings, links, provisioning logs, cycles and reports are deleted from this console.",
          "Nothing is deleted in Dialpad or in Entra ID: the Dialpad users it provisioned stay as they are.",
        ]}
        confirmLabel="Delete"
        pendingLabel="Deleting…"
        isPending={remove.isPending}
        onCancel={() => setOpen(false)}
        onConfirm={() =>
          void remove
            .mutateAsync()
            .then(() => router.push("/"))
            .catch(() => undefined)
        }
      >
        {remove.error && (
          <Alert tone="error" title="The connection was not deleted">
            {describeProblem(remove.error)}
          </Alert>
        )}
      </ConfirmDialog>
    </Card>
  );
}
