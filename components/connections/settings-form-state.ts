import type { Connection, WebhookEventType } from "@/lib/client/connections";
import type { ConnectionSettingsInput } from "@/lib/contracts/connections";

/**
 * The settings form's state: one draft whose keys are the settings contract's own field names, so a
 * server error on `settings.<field>` lands on the input of the same name and the PATCH body is built
 * from the same list the form renders.
 */

type Settings = Required<ConnectionSettingsInput>;

/** Settings the form edits as text (numbers and dates are typed as text and converted on save). */
const TEXT_FIELDS = [
  "tenantUrl",
  "secretTokenExpiresAt",
  "notificationEmail",
  "deletionThreshold",
  "sourceShrinkPercent",
  "scheduleIntervalMinutes",
  "graphAuthorityHost",
  "graphBaseUrl",
  "graphTenantId",
  "graphClientId",
  "graphServicePrincipalId",
  "webhookUrl",
] as const satisfies readonly (keyof Settings)[];

const FLAG_FIELDS = [
  "notifyOnFailure",
  "preventAccidentalDeletes",
  "requireApprovalForDeletions",
  "skipOutOfScopeDeletions",
  "provisioningEnabled",
] as const satisfies readonly (keyof Settings)[];

/** Write-only: never shown, sent only when the admin typed one, emptied again after a save. */
const SECRET_FIELDS = [
  "secretToken",
  "graphClientSecret",
  "webhookSecret",
] as const satisfies readonly (keyof Settings)[];

export type TextField = (typeof TEXT_FIELDS)[number] | (typeof SECRET_FIELDS)[number];
export type FlagField = (typeof FLAG_FIELDS)[number];

export type SettingsDraft = Record<TextField, string> &
  Record<FlagField, boolean> & {
    scope: Settings["scope"];
    scheduleMode: Settings["scheduleMode"];
    webhookEvents: WebhookEventType[];
  };

export type SettingsAction =
  | { type: "text"; field: TextField; value: string }
  | { type: "flag"; field: FlagField; value: boolean }
  | { type: "scope"; value: Settings["scope"] }
  | { type: "scheduleMode"; value: Settings["scheduleMode"] }
  | { type: "webhookEvent"; event: WebhookEventType; subscribed: boolean }
  /** After a save: the typed secrets are stored now, so their inputs empty again. */
  | { type: "saved" };

/** The draft as the form opens: the saved values, dates as the date input shows them, no secrets. */
export function draftOf(connection: Connection): SettingsDraft {
  return {
    tenantUrl: connection.tenantUrl ?? "",
    secretToken: "",
    secretTokenExpiresAt: connection.secretToken.expiresAt?.slice(0, 10) ?? "",
    notificationEmail: connection.notificationEmail ?? "",
    notifyOnFailure: connection.notifyOnFailure,
    preventAccidentalDeletes: connection.preventAccidentalDeletes,
    deletionThreshold: String(connection.deletionThreshold),
    requireApprovalForDeletions: connection.requireApprovalForDeletions,
    skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
    sourceShrinkPercent: String(connection.sourceShrinkPercent),
    scope: connection.scope,
    scheduleMode: connection.scheduleMode,
    scheduleIntervalMinutes: String(connection.scheduleIntervalMinutes),
    provisioningEnabled: connection.provisioningEnabled,
    graphAuthorityHost: connection.graph.authorityHost ?? "",
    graphBaseUrl: connection.graph.baseUrl ?? "",
    graphTenantId: connection.graph.tenantId ?? "",
    graphClientId: connection.graph.clientId ?? "",
    graphClientSecret: "",
    graphServicePrincipalId: connection.graph.servicePrincipalId ?? "",
    webhookUrl: connection.webhook.url ?? "",
    webhookSecret: "",
    webhookEvents: [...connection.webhook.events],
  };
}

export function settingsReducer(draft: SettingsDraft, action: SettingsAction): SettingsDraft {
  switch (action.type) {
    case "text":
      return { ...draft, [action.field]: action.value };
    case "flag":
      return { ...draft, [action.field]: action.value };
    case "scope":
      return { ...draft, scope: action.value };
    case "scheduleMode":
      return { ...draft, scheduleMode: action.value };
    case "webhookEvent": {
      const others = draft.webhookEvents.filter((event) => event !== action.event);
      return { ...draft, webhookEvents: action.subscribed ? [...others, action.event] : others };
    }
    case "saved":
      return { ...draft, secretToken: "", graphClientSecret: "", webhookSecret: "" };
  }
}

const NUMBER_FIELDS = new Set<TextField>([
  "deletionThreshold",
  "sourceShrinkPercent",
  "scheduleIntervalMinutes",
]);

/**
 * A text input's value as the contract takes it: trimmed text, or null for an emptied optional field;
 * numbers as numbers (what is not a number goes as typed, so the server names the field); a date as
 * midnight UTC of that day.
 */
function settingOf(field: (typeof TEXT_FIELDS)[number], text: string): string | number | null {
  if (NUMBER_FIELDS.has(field)) return Number(text);
  if (field === "secretTokenExpiresAt") return text ? new Date(`${text}T00:00:00Z`).toISOString() : null;
  return text.trim() || null;
}

/**
 * The PATCH body: only what differs from the saved connection (plus any typed secret), so saving one
 * field never writes back values that changed elsewhere meanwhile (Start turning provisioning On, say).
 * Both sides are converted alike, so a date or number that reads the same is not sent again.
 */
export function changedSettings(saved: Connection, draft: SettingsDraft): ConnectionSettingsInput {
  const loaded = draftOf(saved);
  const body: Record<string, unknown> = {};
  for (const field of TEXT_FIELDS) {
    const value = settingOf(field, draft[field]);
    if (!Object.is(value, settingOf(field, loaded[field]))) body[field] = value;
  }
  for (const field of FLAG_FIELDS) {
    if (draft[field] !== loaded[field]) body[field] = draft[field];
  }
  if (draft.scope !== loaded.scope) body.scope = draft.scope;
  if (draft.scheduleMode !== loaded.scheduleMode) body.scheduleMode = draft.scheduleMode;
  for (const field of SECRET_FIELDS) {
    if (draft[field]) body[field] = draft[field];
  }
  if ([...draft.webhookEvents].sort().join() !== [...loaded.webhookEvents].sort().join()) {
    body.webhookEvents = draft.webhookEvents;
  }
  // The keys and value types above are the contract's (TEXT_FIELDS and the rest are checked against
  // it); the record only lets the loop write them by name.
  return body as ConnectionSettingsInput;
}
