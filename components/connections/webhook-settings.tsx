"use client";

import { useMutation } from "@tanstack/react-query";
import type { Dispatch } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, TextInput } from "@/components/ui/field";
import { describeProblem } from "@/lib/client/api";
import { type Connection, type WebhookEventType, useConnectionApi } from "@/lib/client/connections";
import { useConsoleConfig } from "@/lib/client/console-config";
import type { SettingsAction, SettingsDraft } from "./settings-form-state";
import { savedSecretHint } from "./settings-text";

const WEBHOOK_EVENTS: Record<WebhookEventType, string> = {
  "cycle.finished": "A provisioning cycle finished (with its counts)",
  "quarantine.entered": "Provisioning entered quarantine",
  "quarantine.left": "Provisioning left quarantine",
  "deletions.held": "Disables and deletes were held (over the threshold)",
  "reconcile.finished": "A reconcile report found orphans, drift or missing objects (with its counts)",
};

/** The settings form's webhook card; its values are saved with the rest of the form. */
export function WebhookSettings({
  connection,
  canWrite,
  readOnlyReason,
  fieldError,
  draft,
  dispatch,
}: {
  connection: Connection;
  canWrite: boolean;
  readOnlyReason: string | undefined;
  fieldError: (field: string) => string | undefined;
  draft: SettingsDraft;
  dispatch: Dispatch<SettingsAction>;
}) {
  const connectionApi = useConnectionApi(connection.id);
  const { sandbox } = useConsoleConfig();
  const testWebhook = useMutation({
    mutationFn: () =>
      connectionApi.webhookTest({
        webhookUrl: draft.webhookUrl.trim() || undefined,
        ...(draft.webhookSecret ? { webhookSecret: draft.webhookSecret } : {}),
      }),
  });
  return (
    <Card
      title="Webhook"
      description="Optional: an HTTPS address that receives a signed POST when a cycle finishes, provisioning enters or leaves quarantine, or deletions are held. Failed deliveries are retried with backoff; outcomes appear in the audit log."
    >
      <fieldset disabled={!canWrite} className="space-y-4">
        <Field
          id="webhookUrl"
          label="Webhook URL"
          error={fieldError("webhookUrl")}
          hint="Leave empty for no webhook. Redirects are not followed."
        >
          <TextInput
            id="webhookUrl"
            value={draft.webhookUrl}
            onChange={(e) => dispatch({ type: "text", field: "webhookUrl", value: e.target.value })}
            placeholder="https://hooks.example.com/dialpad-provisioning"
          />
        </Field>
        <Field
          id="webhookSecret"
          label="Signing secret"
          error={fieldError("webhookSecret")}
          hint={
            connection.webhook.secret.isSet
              ? savedSecretHint("secret", connection.webhook.secret.last4, canWrite)
              : "No signing secret saved yet (at least 16 characters). Receivers verify the Webhook-Signature header with it."
          }
        >
          <TextInput
            id="webhookSecret"
            type="password"
            autoComplete="off"
            value={draft.webhookSecret}
            onChange={(e) => dispatch({ type: "text", field: "webhookSecret", value: e.target.value })}
          />
        </Field>
        <fieldset
          className="space-y-2"
          aria-describedby={fieldError("webhookEvents") ? "webhookEvents-error" : undefined}
        >
          <legend className="text-sm font-medium">Events</legend>
          {(Object.entries(WEBHOOK_EVENTS) as [WebhookEventType, string][]).map(([type, label]) => (
            <div key={type} className="flex items-center gap-2">
              <input
                id={`webhookEvent-${type}`}
                type="checkbox"
                checked={draft.webhookEvents.includes(type)}
                onChange={(e) =>
                  dispatch({ type: "webhookEvent", event: type, subscribed: e.target.checked })
                }
              />
              <label htmlFor={`webhookEvent-${type}`} className="text-sm">
                {label} <code className="text-xs text-slate-600 dark:text-slate-400">{type}</code>
              </label>
            </div>
          ))}
          {fieldError("webhookEvents") && (
            <p id="webhookEvents-error" className="text-sm text-red-700 dark:text-red-400" role="alert">
              {fieldError("webhookEvents")}
            </p>
          )}
        </fieldset>
        <div className="flex flex-wrap items-center gap-3">
          <Button
            variant="secondary"
            onClick={() => testWebhook.mutate()}
            disabled={!canWrite || testWebhook.isPending}
            title={readOnlyReason}
          >
            {testWebhook.isPending ? "Sending…" : "Send test event"}
          </Button>
          {sandbox?.webhookUrl && canWrite && (
            <Button
              variant="ghost"
              onClick={() => {
                dispatch({ type: "text", field: "webhookUrl", value: sandbox.webhookUrl ?? "" });
                dispatch({ type: "text", field: "webhookSecret", value: sandbox.webhookSecret ?? "" });
              }}
            >
              Fill in the sandbox webhook catcher
            </Button>
          )}
        </div>
        {testWebhook.data && (
          <Alert
            tone={testWebhook.data.ok ? "success" : "error"}
            title={testWebhook.data.ok ? "Test event delivered" : "Test event not delivered"}
          >
            <p>{testWebhook.data.message}</p>
          </Alert>
        )}
        {testWebhook.error && (
          <Alert tone="error" title="Test event not sent">
            {describeProblem(testWebhook.error)}
          </Alert>
        )}
      </fieldset>
    </Card>
  );
}
