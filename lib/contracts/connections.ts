import { z } from "zod";
import { ZTimestamp } from "./common";
import { WEBHOOK_EVENT_TYPES } from "./webhook-event-types";

/** Connections: settings and credentials (write-only secrets), and the checks an admin runs on them. */

export const ZConnectionSettings = z
  .object({
    name: z.string().trim().min(1, "is required").max(120),
    tenantUrl: z.string().trim().max(2048).nullable(),
    secretToken: z.string().min(1, "must not be empty").max(4096),
    secretTokenExpiresAt: z.iso.datetime({ offset: true }).nullable(),
    graphAuthorityHost: z.string().trim().max(2048).url().nullable(),
    graphBaseUrl: z.string().trim().max(2048).url().nullable(),
    graphTenantId: z.string().trim().min(1).max(200).nullable(),
    graphClientId: z.string().trim().min(1).max(200).nullable(),
    graphClientSecret: z.string().min(1, "must not be empty").max(4096),
    graphServicePrincipalId: z.string().trim().min(1).max(200).nullable(),
    scope: z.enum(["AssignedOnly", "All"]),
    // RFC 5321 caps a forward path at 256 octets including the brackets: 254 for the address.
    notificationEmail: z.string().trim().max(254).email("must be an e-mail address").nullable(),
    notifyOnFailure: z.boolean(),
    preventAccidentalDeletes: z.boolean(),
    deletionThreshold: z.number().int("must be a whole number").min(1).max(1_000_000),
    /** Hold every disable and delete until an admin approves it (Allow deletes, or applying a preview). */
    requireApprovalForDeletions: z.boolean(),
    /** Entra's SkipOutOfScopeDeletions: users and groups that leave scope stay as they are in Dialpad. */
    skipOutOfScopeDeletions: z.boolean(),
    /**
     * Source-shrink guard: hold every disable and delete when Entra returns more than this many percent
     * fewer assigned users than the last accepted cycle (always when it returns none).
     */
    sourceShrinkPercent: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1 %")
      .max(100, "must be at most 100 %"),
    /** Queue a reconcile report after each full (initial) cycle that succeeded. */
    reconcileAfterFullCycle: z.boolean(),
    /** E-mail the notification address when a report finds orphans or drift the last one had not. */
    reconcileAlertEmail: z.boolean(),
    /**
     * "continuous": changes in Entra ID reach Dialpad within about a minute (Graph's change feeds are
     * polled every few seconds); "interval": a cycle every scheduleIntervalMinutes, Entra's rhythm.
     */
    scheduleMode: z.enum(["continuous", "interval"]),
    scheduleIntervalMinutes: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1 minute")
      .max(7 * 24 * 60),
    provisioningEnabled: z.boolean(),
    /** Optional webhook; null removes it (the secret stays saved for when a URL is set again). */
    webhookUrl: z.string().trim().max(2048).nullable(),
    webhookSecret: z.string().min(16, "must be at least 16 characters").max(512),
    webhookEvents: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .max(WEBHOOK_EVENT_TYPES.length)
      .refine((events) => new Set(events).size === events.length, "lists an event twice"),
  })
  .partial()
  .strict();
export type ConnectionSettingsInput = z.infer<typeof ZConnectionSettings>;

export const ZCreateConnection = ZConnectionSettings.extend({
  name: z.string().trim().min(1, "is required").max(120),
}).strict();

export const ZUpdateConnection = z
  .object({
    settings: ZConnectionSettings,
    /** The `version` the client loaded; a newer one on the server means someone else saved meanwhile. */
    expectedVersion: z.number().int().optional(),
  })
  .strict();
export type UpdateConnectionInput = z.input<typeof ZUpdateConnection>;

export const ZRotateSecretToken = z
  .object({
    secretToken: z.string().min(1, "must not be empty").max(4096),
    /** The new key's expiry; omitted keeps the saved date, null clears it. */
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict();

export const ZTestConnection = z
  .object({
    tenantUrl: z.string().trim().min(1).max(2048).optional(),
    secretToken: z.string().min(1).max(4096).optional(),
  })
  .strict();

/** Send test event: the URL and secret typed in the form, else the saved ones. */
export const ZWebhookTest = z
  .object({
    webhookUrl: z.string().trim().min(1).max(2048).optional(),
    webhookSecret: z.string().min(16, "must be at least 16 characters").max(512).optional(),
  })
  .strict();

/** The self-test writes to the target only with this explicit consent (one temporary user, deleted again). */
export const ZTargetSelfTest = z.object({ createTemporaryUser: z.boolean() }).strict();

/** A secret as callers see it: whether it is set and its last four characters, never the value. */
const ZSecretStatus = z.object({
  isSet: z.boolean(),
  last4: z.string().nullable(),
  updatedAt: ZTimestamp.nullable(),
});

export const ZConnection = z.object({
  id: z.uuid(),
  name: z.string(),
  version: z.number().int(),
  isSandbox: z.boolean(),
  tenantUrl: z.string().nullable(),
  secretToken: ZSecretStatus.extend({
    expiresAt: ZTimestamp.nullable(),
    expiresSoon: z.boolean(),
    isExpired: z.boolean(),
  }),
  graph: z.object({
    authorityHost: z.string().nullable(),
    baseUrl: z.string().nullable(),
    tenantId: z.string().nullable(),
    clientId: z.string().nullable(),
    clientSecret: ZSecretStatus,
    servicePrincipalId: z.string().nullable(),
  }),
  scope: z.enum(["AssignedOnly", "All"]),
  notificationEmail: z.string().nullable(),
  notifyOnFailure: z.boolean(),
  preventAccidentalDeletes: z.boolean(),
  deletionThreshold: z.number().int(),
  requireApprovalForDeletions: z.boolean(),
  skipOutOfScopeDeletions: z.boolean(),
  sourceShrinkPercent: z.number().int(),
  reconcileAfterFullCycle: z.boolean(),
  reconcileAlertEmail: z.boolean(),
  scheduleMode: z.enum(["continuous", "interval"]),
  scheduleIntervalMinutes: z.number().int(),
  provisioningEnabled: z.boolean(),
  webhook: z.object({
    url: z.string().nullable(),
    secret: ZSecretStatus,
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  }),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type Connection = z.infer<typeof ZConnection>;

export const ZConnectionList = z.object({ connections: z.array(ZConnection) });

/** Entra's Test Connection outcome: one sentence for the admin, the target's own words in `detail`. */
export const ZTestConnectionResult = z.object({
  ok: z.boolean(),
  status: z.number().int().optional(),
  message: z.string(),
  detail: z.string().optional(),
});
export type TestConnectionResult = z.infer<typeof ZTestConnectionResult>;

export const ZWebhookTestResult = z.object({
  ok: z.boolean(),
  status: z.number().int().nullable(),
  durationMs: z.number(),
  eventId: z.string(),
  message: z.string(),
});
export type WebhookTestResult = z.infer<typeof ZWebhookTestResult>;

export const ZSelfTestStatus = z.enum(["pass", "warn", "fail", "skipped"]);
export type SelfTestStatus = z.infer<typeof ZSelfTestStatus>;

export const ZTargetSelfTestReport = z.object({
  /** The tenant URL tested (credentials removed). */
  target: z.string(),
  startedAt: ZTimestamp,
  durationMs: z.number(),
  summary: z.object({
    pass: z.number().int(),
    warn: z.number().int(),
    fail: z.number().int(),
    skipped: z.number().int(),
    total: z.number().int(),
  }),
  checks: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      status: ZSelfTestStatus,
      detail: z.string(),
      engineAction: z.string(),
      durationMs: z.number(),
    }),
  ),
  /** `deleted` false means the temporary user may still be in the target. */
  temporaryUser: z
    .object({
      userName: z.string(),
      id: z.string().optional(),
      created: z.boolean(),
      deleted: z.boolean(),
    })
    .nullable(),
  requestCount: z.number().int(),
});
export type TargetSelfTestReport = z.infer<typeof ZTargetSelfTestReport>;
