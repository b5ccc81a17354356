"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ChangeEvent, type FormEvent, useReducer } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, SelectInput, TextInput } from "@/components/ui/field";
import { ApiProblem, describeProblem } from "@/lib/client/api";
import { type Connection, useConnectionApi } from "@/lib/client/connections";
import { useConsoleConfig } from "@/lib/client/console-config";
import { queryKeys } from "@/lib/client/query-keys";
import {
  type FlagField,
  type TextField,
  changedSettings,
  draftOf,
  settingsReducer,
} from "./settings-form-state";
import { savedSecretHint, withoutRepeatedTitle } from "./settings-text";
import { WebhookSettings } from "./webhook-settings";

export function SettingsForm({ connection, canWrite }: { connection: Connection; canWrite: boolean }) {
  const connectionApi = useConnectionApi(connection.id);
  const queryClient = useQueryClient();
  const { sandbox } = useConsoleConfig();
  const [draft, dispatch] = useReducer(settingsReducer, connection, draftOf);
  const readOnlyReason = canWrite
    ? undefined
    : "Read-only: your role (Provisioning.Reader) cannot change settings.";

  const testConnection = useMutation({
    mutationFn: () =>
      connectionApi.testConnection({
        tenantUrl: draft.tenantUrl || undefined,
        ...(draft.secretToken ? { secretToken: draft.secretToken } : {}),
      }),
  });

  const save = useMutation({
    mutationFn: () =>
      connectionApi.update({
        expectedVersion: connection.version,
        settings: changedSettings(connection, draft),
      }),
    onSuccess: (updated) => {
      dispatch({ type: "saved" });
      queryClient.setQueryData(queryKeys.connections.detail(connection.id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.list() });
      // The overview's status depends on the settings ("Not configured", "Paused"): a status read
      // moments before the save would otherwise be shown as fresh.
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.status(connection.id) });
    },
  });

  const problem = save.error instanceof ApiProblem ? save.error : undefined;
  const fieldError = (field: string) =>
    problem?.fieldError(`settings.${field}`) ?? problem?.fieldError(field);
  /** A text input bound to its draft field; its id is the contract's field name. */
  const text = (field: TextField) => ({
    id: field,
    value: draft[field],
    onChange: (event: ChangeEvent<HTMLInputElement>) =>
      dispatch({ type: "text", field, value: event.target.value }),
  });
  const flag = (field: FlagField) => ({
    checked: draft[field],
    onChange: (event: ChangeEvent<HTMLInputElement>) =>
      dispatch({ type: "flag", field, value: event.target.checked }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <form onSubmit={onSubmit} className="space-y-6" noValidate>
      {readOnlyReason && <Alert tone="info">{readOnlyReason}</Alert>}
      <Card
        title="Admin credentials"
        description="Where Dialpad's SCIM API is and the API key it accepts (Dialpad: Admin settings › My Company › Authentication › API Keys)."
      >
        <fieldset disabled={!canWrite} className="space-y-4">
          <Field
            id="tenantUrl"
            label="Tenant URL"
            error={fieldError("tenantUrl")}
            hint="For Dialpad this is https://dialpad.com/scim"
          >
            <TextInput {...text("tenantUrl")} placeholder="https://dialpad.com/scim" />
          </Field>
          <Field
            id="secretToken"
            label="Secret token"
            error={fieldError("secretToken")}
            hint={
              connection.secretToken.isSet
                ? savedSecretHint("key", connection.secretToken.last4, canWrite)
                : "No key saved yet."
            }
          >
            <TextInput
              {...text("secretToken")}
              type="password"
              autoComplete="off"
              placeholder={
                connection.secretToken.isSet
                  ? `••••••••${connection.secretToken.last4 ?? ""}`
                  : "Dialpad API key"
              }
            />
          </Field>
          <Field
            id="secretTokenExpiresAt"
            label="Key expiry date"
            error={fieldError("secretTokenExpiresAt")}
            hint="Dialpad keys expire; we warn you before this one does."
          >
            <TextInput {...text("secretTokenExpiresAt")} type="date" />
          </Field>
          {connection.secretToken.isExpired && (
            <Alert tone="error">
              The saved key has expired. Create a new key in Dialpad and save it here.
            </Alert>
          )}
          {connection.secretToken.expiresSoon && (
            <Alert tone="warning">
              The saved key expires on {connection.secretToken.expiresAt?.slice(0, 10)}. Replace it before
              then.
            </Alert>
          )}
          <div className="flex flex-wrap items-center gap-3">
            <Button
              variant="secondary"
              onClick={() => testConnection.mutate()}
              disabled={!canWrite || testConnection.isPending}
              title={readOnlyReason}
            >
              {testConnection.isPending ? "Testing…" : "Test Connection"}
            </Button>
            {sandbox && canWrite && (
              <Button
                variant="ghost"
                onClick={() => {
                  dispatch({ type: "text", field: "tenantUrl", value: sandbox.dialpadTenantUrl });
                  dispatch({ type: "text", field: "secretToken", value: sandbox.dialpadApiKey });
                }}
              >
                Fill in the sandbox Dialpad
              </Button>
            )}
          </div>
          {testConnection.data && (
            <Alert
              tone={testConnection.data.ok ? "success" : "error"}
              title={testConnection.data.ok ? "Connection succeeded" : "Connection failed"}
            >
              <p>{withoutRepeatedTitle(testConnection.data.message, "Connection succeeded")}</p>
              {testConnection.data.detail && (
                <p className="mt-1 text-xs opacity-80">{testConnection.data.detail}</p>
              )}
            </Alert>
          )}
          {testConnection.error && (
            <Alert tone="error" title="Connection failed">
              {describeProblem(testConnection.error)}
            </Alert>
          )}
        </fieldset>
      </Card>

      <Card
        title="Source: Microsoft Entra ID"
        description="The app registration this service reads the directory with (Microsoft Graph application permissions User.Read.All, Group.Read.All, Application.Read.All; Directory.Read.All, optional, lets Save check directory extension attributes), and the Dialpad enterprise app whose assignments define the scope."
      >
        <fieldset disabled={!canWrite} className="grid gap-4 md:grid-cols-2">
          <Field id="graphTenantId" label="Directory (tenant) ID" error={fieldError("graphTenantId")}>
            <TextInput {...text("graphTenantId")} />
          </Field>
          <Field id="graphClientId" label="Application (client) ID" error={fieldError("graphClientId")}>
            <TextInput {...text("graphClientId")} />
          </Field>
          <Field
            id="graphClientSecret"
            label="Client secret"
            error={fieldError("graphClientSecret")}
            hint={
              connection.graph.clientSecret.isSet
                ? savedSecretHint("secret", connection.graph.clientSecret.last4, canWrite)
                : "No client secret saved yet."
            }
          >
            <TextInput {...text("graphClientSecret")} type="password" autoComplete="off" />
          </Field>
          <Field
            id="graphServicePrincipalId"
            label="Dialpad enterprise app (service principal) object ID"
            error={fieldError("graphServicePrincipalId")}
          >
            <TextInput {...text("graphServicePrincipalId")} />
          </Field>
          <Field
            id="graphAuthorityHost"
            label="Sign-in authority"
            error={fieldError("graphAuthorityHost")}
            hint="https://login.microsoftonline.com unless you use a national cloud."
          >
            <TextInput {...text("graphAuthorityHost")} />
          </Field>
          <Field
            id="graphBaseUrl"
            label="Microsoft Graph URL"
            error={fieldError("graphBaseUrl")}
            hint="https://graph.microsoft.com/v1.0"
          >
            <TextInput {...text("graphBaseUrl")} />
          </Field>
        </fieldset>
      </Card>

      <Card title="Settings">
        <fieldset disabled={!canWrite} className="grid gap-4 md:grid-cols-2">
          <div className="flex items-center gap-2 md:col-span-2">
            <input id="provisioningEnabled" type="checkbox" {...flag("provisioningEnabled")} />
            <label htmlFor="provisioningEnabled" className="text-sm">
              Provisioning status: {draft.provisioningEnabled ? "On" : "Off"} (Off stops scheduled cycles;
              on-demand still works)
            </label>
          </div>
          <Field
            id="notificationEmail"
            label="Notification email"
            error={fieldError("notificationEmail")}
            hint="Quarantine and held-deletion notices go here."
          >
            <TextInput {...text("notificationEmail")} type="email" />
          </Field>
          <div className="flex items-center gap-2 self-end pb-2">
            <input id="notifyOnFailure" type="checkbox" {...flag("notifyOnFailure")} />
            <label htmlFor="notifyOnFailure" className="text-sm">
              Send an email notification when a failure occurs
            </label>
          </div>
          <div className="flex items-center gap-2">
            <input id="preventDeletes" type="checkbox" {...flag("preventAccidentalDeletes")} />
            <label htmlFor="preventDeletes" className="text-sm">
              Prevent accidental deletions
            </label>
          </div>
          <Field
            id="deletionThreshold"
            label="Accidental deletion threshold"
            error={fieldError("deletionThreshold")}
          >
            <TextInput {...text("deletionThreshold")} type="number" min={1} />
          </Field>
          <div className="flex items-start gap-2">
            <input
              id="requireApproval"
              type="checkbox"
              className="mt-1"
              {...flag("requireApprovalForDeletions")}
              aria-describedby="requireApproval-hint"
            />
            <div>
              <label htmlFor="requireApproval" className="text-sm">
                Require approval for every disable or delete
              </label>
              <p id="requireApproval-hint" className="text-xs text-slate-600 dark:text-slate-400">
                Cycles hold every disable and delete until an admin allows them (Allow deletes on the
                Overview, or applying a reviewed Preview).
              </p>
            </div>
          </div>
          <div className="flex items-start gap-2">
            <input
              id="skipOutOfScopeDeletions"
              type="checkbox"
              className="mt-1"
              {...flag("skipOutOfScopeDeletions")}
              aria-describedby="skipOutOfScopeDeletions-hint"
            />
            <div>
              <label htmlFor="skipOutOfScopeDeletions" className="text-sm">
                Skip deletion of user accounts that go out of scope (SkipOutOfScopeDeletions)
              </label>
              <p id="skipOutOfScopeDeletions-hint" className="text-xs text-slate-600 dark:text-slate-400">
                Users and groups that are unassigned or no longer match the scoping filter are left as they
                are in Dialpad, and the provisioning log says so. Users disabled or deleted in Entra ID are
                still disabled.
              </p>
            </div>
          </div>
          <Field
            id="sourceShrinkPercent"
            label="Hold deletions when Entra ID returns this many percent fewer users"
            error={fieldError("sourceShrinkPercent")}
            hint="Compared with the last cycle. Held always when Entra ID returns no assigned users."
          >
            <TextInput {...text("sourceShrinkPercent")} type="number" min={1} max={100} />
          </Field>
          <Field id="scope" label="Scope" error={fieldError("scope")}>
            <SelectInput
              id="scope"
              value={draft.scope}
              onChange={(e) => dispatch({ type: "scope", value: e.target.value as Connection["scope"] })}
            >
              <option value="AssignedOnly">Sync only assigned users and groups</option>
              <option value="All">Sync all users and groups</option>
            </SelectInput>
          </Field>
          <Field
            id="scheduleMode"
            label="Schedule"
            error={fieldError("scheduleMode")}
            hint={
              draft.scheduleMode === "continuous"
                ? "Changes in Entra ID reach Dialpad within about a minute: Microsoft Graph's change feeds are read every few seconds, and a cycle runs as soon as something changed. Entra itself runs a cycle about every 40 minutes."
                : "A cycle every few minutes, as Entra runs one about every 40 minutes: a change waits for the next cycle."
            }
          >
            <SelectInput
              id="scheduleMode"
              value={draft.scheduleMode}
              onChange={(e) =>
                dispatch({ type: "scheduleMode", value: e.target.value as Connection["scheduleMode"] })
              }
            >
              <option value="continuous">Continuous (within a minute)</option>
              <option value="interval">Every few minutes, as Entra</option>
            </SelectInput>
          </Field>
          {draft.scheduleMode === "interval" ? (
            <Field
              id="scheduleIntervalMinutes"
              label="Minutes between cycles"
              error={fieldError("scheduleIntervalMinutes")}
              hint="Entra uses about 40."
            >
              <TextInput {...text("scheduleIntervalMinutes")} type="number" min={1} />
            </Field>
          ) : null}
        </fieldset>
      </Card>

      <WebhookSettings
        connection={connection}
        canWrite={canWrite}
        readOnlyReason={readOnlyReason}
        fieldError={fieldError}
        draft={draft}
        dispatch={dispatch}
      />

      {save.error && (
        <Alert tone="error" title="Not saved">
          {describeProblem(save.error)}
        </Alert>
      )}
      {save.isSuccess && !save.isPending && <Alert tone="success">Saved.</Alert>}
      <Button type="submit" disabled={!canWrite || save.isPending} title={readOnlyReason}>
        {save.isPending ? "Saving…" : "Save"}
      </Button>
    </form>
  );
}
