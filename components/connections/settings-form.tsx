"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, TextInput } from "@/components/ui/field";
import { ApiProblem, describeProblem } from "@/lib/client/api";
import { type Connection, useConnectionApi } from "@/lib/client/connections";
import { useConsoleConfig } from "@/lib/client/console-config";
import { queryKeys } from "@/lib/client/query-keys";
import { savedSecretHint, withoutRepeatedTitle } from "./settings-text";
import { WebhookSettings } from "./webhook-settings";

export function SettingsForm({ connection, canWrite }: { connection: Connection; canWrite: boolean }) {
  const connectionApi = useConnectionApi(connection.id);
  const queryClient = useQueryClient();
  const { sandbox } = useConsoleConfig();
  const [tenantUrl, setTenantUrl] = useState(connection.tenantUrl ?? "");
  const [secretToken, setSecretToken] = useState("");
  const [expiresAt, setExpiresAt] = useState(connection.secretToken.expiresAt?.slice(0, 10) ?? "");
  const [notificationEmail, setNotificationEmail] = useState(connection.notificationEmail ?? "");
  const [notifyOnFailure, setNotifyOnFailure] = useState(connection.notifyOnFailure);
  const [preventDeletes, setPreventDeletes] = useState(connection.preventAccidentalDeletes);
  const [threshold, setThreshold] = useState(String(connection.deletionThreshold));
  const [requireApproval, setRequireApproval] = useState(connection.requireApprovalForDeletions);
  const [skipOutOfScope, setSkipOutOfScope] = useState(connection.skipOutOfScopeDeletions);
  const [shrinkPercent, setShrinkPercent] = useState(String(connection.sourceShrinkPercent));
  const [scope, setScope] = useState(connection.scope);
  const [interval, setInterval] = useState(String(connection.scheduleIntervalMinutes));
  const [provisioningEnabled, setProvisioningEnabled] = useState(connection.provisioningEnabled);
  const [graphAuthorityHost, setGraphAuthorityHost] = useState(connection.graph.authorityHost ?? "");
  const [graphBaseUrl, setGraphBaseUrl] = useState(connection.graph.baseUrl ?? "");
  const [graphTenantId, setGraphTenantId] = useState(connection.graph.tenantId ?? "");
  const [graphClientId, setGraphClientId] = useState(connection.graph.clientId ?? "");
  const [graphClientSecret, setGraphClientSecret] = useState("");
  const [graphServicePrincipalId, setGraphServicePrincipalId] = useState(
    connection.graph.servicePrincipalId ?? "",
  );
  const [webhookUrl, setWebhookUrl] = useState(connection.webhook.url ?? "");
  const [webhookSecret, setWebhookSecret] = useState("");
  const [webhookEvents, setWebhookEvents] = useState<string[]>(connection.webhook.events);
  const webhookEventsChanged =
    [...webhookEvents].sort().join() !== [...connection.webhook.events].sort().join();
  const readOnlyReason = canWrite
    ? undefined
    : "Read-only: your role (Provisioning.Reader) cannot change settings.";

  const testConnection = useMutation({
    mutationFn: () =>
      connectionApi.testConnection({
        tenantUrl: tenantUrl || undefined,
        ...(secretToken ? { secretToken } : {}),
      }),
  });

  const save = useMutation({
    mutationFn: () =>
      connectionApi.update({
        expectedVersion: connection.version,
        settings: changedSettings(
          {
            tenantUrl: connection.tenantUrl,
            secretTokenExpiresAt: connection.secretToken.expiresAt,
            notificationEmail: connection.notificationEmail,
            notifyOnFailure: connection.notifyOnFailure,
            preventAccidentalDeletes: connection.preventAccidentalDeletes,
            deletionThreshold: connection.deletionThreshold,
            requireApprovalForDeletions: connection.requireApprovalForDeletions,
            skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
            sourceShrinkPercent: connection.sourceShrinkPercent,
            scope: connection.scope,
            scheduleIntervalMinutes: connection.scheduleIntervalMinutes,
            provisioningEnabled: connection.provisioningEnabled,
            graphAuthorityHost: connection.graph.authorityHost,
            graphBaseUrl: connection.graph.baseUrl,
            graphTenantId: connection.graph.tenantId,
            graphClientId: connection.graph.clientId,
            graphServicePrincipalId: connection.graph.servicePrincipalId,
            webhookUrl: connection.webhook.url,
          },
          {
            tenantUrl: tenantUrl.trim() || null,
            secretTokenExpiresAt: expiresAt ? new Date(`${expiresAt}T00:00:00Z`).toISOString() : null,
            notificationEmail: notificationEmail.trim() || null,
            notifyOnFailure,
            preventAccidentalDeletes: preventDeletes,
            deletionThreshold: Number(threshold),
            requireApprovalForDeletions: requireApproval,
            skipOutOfScopeDeletions: skipOutOfScope,
            sourceShrinkPercent: Number(shrinkPercent),
            scope,
            scheduleIntervalMinutes: Number(interval),
            provisioningEnabled,
            graphAuthorityHost: graphAuthorityHost.trim() || null,
            graphBaseUrl: graphBaseUrl.trim() || null,
            graphTenantId: graphTenantId.trim() || null,
            graphClientId: graphClientId.trim() || null,
            graphServicePrincipalId: graphServicePrincipalId.trim() || null,
            webhookUrl: webhookUrl.trim() || null,
          },
          {
            ...(secretToken ? { secretToken } : {}),
            ...(graphClientSecret ? { graphClientSecret } : {}),
            ...(webhookSecret ? { webhookSecret } : {}),
            ...(webhookEventsChanged ? { webhookEvents } : {}),
          },
        ),
      }),
    onSuccess: (updated) => {
      setSecretToken("");
      setGraphClientSecret("");
      setWebhookSecret("");
      queryClient.setQueryData(queryKeys.connections.detail(connection.id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.connections.list() });
    },
  });

  const problem = save.error instanceof ApiProblem ? save.error : undefined;
  const fieldError = (field: string) =>
    problem?.fieldError(`settings.${field}`) ?? problem?.fieldError(field);
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
            <TextInput
              id="tenantUrl"
              value={tenantUrl}
              onChange={(e) => setTenantUrl(e.target.value)}
              placeholder="https://dialpad.com/scim"
              invalid={Boolean(fieldError("tenantUrl"))}
            />
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
              id="secretToken"
              type="password"
              autoComplete="off"
              value={secretToken}
              onChange={(e) => setSecretToken(e.target.value)}
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
            <TextInput
              id="secretTokenExpiresAt"
              type="date"
              value={expiresAt}
              onChange={(e) => setExpiresAt(e.target.value)}
            />
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
                  setTenantUrl(sandbox.dialpadTenantUrl);
                  setSecretToken(sandbox.dialpadApiKey);
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
            <TextInput
              id="graphTenantId"
              value={graphTenantId}
              onChange={(e) => setGraphTenantId(e.target.value)}
            />
          </Field>
          <Field id="graphClientId" label="Application (client) ID" error={fieldError("graphClientId")}>
            <TextInput
              id="graphClientId"
              value={graphClientId}
              onChange={(e) => setGraphClientId(e.target.value)}
            />
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
            <TextInput
              id="graphClientSecret"
              type="password"
              autoComplete="off"
              value={graphClientSecret}
              onChange={(e) => setGraphClientSecret(e.target.value)}
            />
          </Field>
          <Field
            id="graphServicePrincipalId"
            label="Dialpad enterprise app (service principal) object ID"
            error={fieldError("graphServicePrincipalId")}
          >
            <TextInput
              id="graphServicePrincipalId"
              value={graphServicePrincipalId}
              onChange={(e) => setGraphServicePrincipalId(e.target.value)}
            />
          </Field>
          <Field
            id="graphAuthorityHost"
            label="Sign-in authority"
            error={fieldError("graphAuthorityHost")}
            hint="https://login.microsoftonline.com unless you use a national cloud."
          >
            <TextInput
              id="graphAuthorityHost"
              value={graphAuthorityHost}
              onChange={(e) => setGraphAuthorityHost(e.target.value)}
            />
          </Field>
          <Field
            id="graphBaseUrl"
            label="Microsoft Graph URL"
            error={fieldError("graphBaseUrl")}
            hint="https://graph.microsoft.com/v1.0"
          >
            <TextInput
              id="graphBaseUrl"
              value={graphBaseUrl}
              onChange={(e) => setGraphBaseUrl(e.target.value)}
            />
          </Field>
        </fieldset>
      </Card>

      <Card title="Settings">
        <fieldset disabled={!canWrite} className="grid gap-4 md:grid-cols-2">
          <div className="flex items-center gap-2 md:col-span-2">
            <input
              id="provisioningEnabled"
              type="checkbox"
              checked={provisioningEnabled}
              onChange={(e) => setProvisioningEnabled(e.target.checked)}
            />
            <label htmlFor="provisioningEnabled" className="text-sm">
              Provisioning status: {provisioningEnabled ? "On" : "Off"} (Off stops scheduled cycles; on-demand
              still works)
            </label>
          </div>
          <Field
            id="notificationEmail"
            label="Notification email"
            error={fieldError("notificationEmail")}
            hint="Quarantine and held-deletion notices go here."
          >
            <TextInput
              id="notificationEmail"
              type="email"
              value={notificationEmail}
              onChange={(e) => setNotificationEmail(e.target.value)}
              invalid={Boolean(fieldError("notificationEmail"))}
            />
          </Field>
          <div className="flex items-center gap-2 self-end pb-2">
            <input
              id="notifyOnFailure"
              type="checkbox"
              checked={notifyOnFailure}
              onChange={(e) => setNotifyOnFailure(e.target.checked)}
            />
            <label htmlFor="notifyOnFailure" className="text-sm">
              Send an email notification when a failure occurs
            </label>
          </div>
          <div className="flex items-center gap-2">
            <input
              id="preventDeletes"
              type="checkbox"
              checked={preventDeletes}
              onChange={(e) => setPreventDeletes(e.target.checked)}
            />
            <label htmlFor="preventDeletes" className="text-sm">
              Prevent accidental deletions
            </label>
          </div>
          <Field
            id="deletionThreshold"
            label="Accidental deletion threshold"
            error={fieldError("deletionThreshold")}
          >
            <TextInput
              id="deletionThreshold"
              type="number"
              min={1}
              value={threshold}
              onChange={(e) => setThreshold(e.target.value)}
              invalid={Boolean(fieldError("deletionThreshold"))}
            />
          </Field>
          <div className="flex items-start gap-2">
            <input
              id="requireApproval"
              type="checkbox"
              className="mt-1"
              checked={requireApproval}
              onChange={(e) => setRequireApproval(e.target.checked)}
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
              checked={skipOutOfScope}
              onChange={(e) => setSkipOutOfScope(e.target.checked)}
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
            <TextInput
              id="sourceShrinkPercent"
              type="number"
              min={1}
              max={100}
              value={shrinkPercent}
              onChange={(e) => setShrinkPercent(e.target.value)}
              invalid={Boolean(fieldError("sourceShrinkPercent"))}
            />
          </Field>
          <Field id="scope" label="Scope" error={fieldError("scope")}>
            <select
              id="scope"
              value={scope}
              onChange={(e) => setScope(e.target.value as Connection["scope"])}
              className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm disabled:cursor-not-allowed disabled:border-dashed disabled:bg-slate-100 dark:border-slate-700 dark:bg-slate-900 dark:disabled:bg-slate-800"
            >
              <option value="AssignedOnly">Sync only assigned users and groups</option>
              <option value="All">Sync all users and groups</option>
            </select>
          </Field>
          <Field
            id="scheduleIntervalMinutes"
            label="Minutes between cycles"
            error={fieldError("scheduleIntervalMinutes")}
            hint="Entra uses about 40."
          >
            <TextInput
              id="scheduleIntervalMinutes"
              type="number"
              min={1}
              value={interval}
              onChange={(e) => setInterval(e.target.value)}
              invalid={Boolean(fieldError("scheduleIntervalMinutes"))}
            />
          </Field>
        </fieldset>
      </Card>

      <WebhookSettings
        connection={connection}
        canWrite={canWrite}
        readOnlyReason={readOnlyReason}
        fieldError={fieldError}
        url={[webhookUrl, setWebhookUrl]}
        secret={[webhookSecret, setWebhookSecret]}
        events={[webhookEvents, setWebhookEvents]}
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

/**
 * PATCH sends only what the admin changed (plus any typed secret), so saving one field never writes
 * back values that changed elsewhere meanwhile (Start turning provisioning On, say).
 */
function changedSettings(
  loaded: Record<string, unknown>,
  edited: Record<string, unknown>,
  secrets: Record<string, unknown>,
): Record<string, unknown> {
  const changed = Object.fromEntries(
    Object.entries(edited).filter(([key, value]) => value !== (loaded[key] ?? null)),
  );
  return { ...changed, ...secrets };
}
