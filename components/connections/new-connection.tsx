"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, TextInput } from "@/components/ui/field";
import { ApiProblem, describeProblem } from "@/lib/client/api";
import { useCreateConnection } from "@/lib/client/connections";

/**
 * "New connection": a name, and optionally the Dialpad tenant URL and API key (the tutorial's first
 * settings). The rest is set on the new connection's settings page, where this leads; provisioning
 * stays Off until the admin turns it on there.
 */
export function NewConnectionButton({ canWrite }: { canWrite: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        onClick={() => setOpen(true)}
        disabled={!canWrite}
        aria-describedby={canWrite ? undefined : "new-connection-readonly"}
      >
        New connection
      </Button>
      {!canWrite && (
        <span id="new-connection-readonly" className="sr-only">
          Your role can view connections but not create them (Reader).
        </span>
      )}
      {open && <NewConnectionDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function NewConnectionDialog({ onClose }: { onClose: () => void }) {
  const router = useRouter();
  const create = useCreateConnection();
  const [name, setName] = useState("");
  const [tenantUrl, setTenantUrl] = useState("https://dialpad.com/scim");
  const [secretToken, setSecretToken] = useState("");
  const problem = create.error instanceof ApiProblem ? create.error : null;
  const fieldError = (field: string) => problem?.fieldError(field);
  const submit = async () => {
    const created = await create.mutateAsync({
      name,
      ...(tenantUrl.trim() ? { tenantUrl: tenantUrl.trim() } : {}),
      ...(secretToken ? { secretToken } : {}),
    });
    onClose();
    router.push(`/connections/${created.id}/settings`);
  };
  return (
    <Dialog
      open
      onClose={onClose}
      title="New connection"
      description="One Entra application provisioned into one Dialpad company. Provisioning stays Off until you turn it on in its settings."
      footer={
        <>
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button form="new-connection-form" type="submit" disabled={create.isPending || name.trim() === ""}>
            {create.isPending ? "Creating…" : "Create"}
          </Button>
        </>
      }
    >
      <form
        id="new-connection-form"
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          void submit().catch(() => undefined);
        }}
      >
        <Field id="new-connection-name" label="Name" error={fieldError("name")}>
          <TextInput
            id="new-connection-name"
            data-autofocus
            value={name}
            maxLength={120}
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <Field
          id="new-connection-tenant-url"
          label="Tenant URL"
          hint="Dialpad's SCIM endpoint; leave it to set later."
          error={fieldError("tenantUrl")}
        >
          <TextInput
            id="new-connection-tenant-url"
            value={tenantUrl}
            onChange={(event) => setTenantUrl(event.target.value)}
          />
        </Field>
        <Field
          id="new-connection-secret-token"
          label="Secret token"
          hint="The Dialpad API key; stored encrypted and never shown again."
          error={fieldError("secretToken")}
        >
          <TextInput
            id="new-connection-secret-token"
            type="password"
            autoComplete="off"
            value={secretToken}
            onChange={(event) => setSecretToken(event.target.value)}
          />
        </Field>
        {create.error && !problem?.errors.length && (
          <Alert tone="error" title="The connection was not created">
            {describeProblem(create.error)}
          </Alert>
        )}
      </form>
    </Dialog>
  );
}
