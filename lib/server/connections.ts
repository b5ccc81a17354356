import type { z } from "zod";
import {
  ZConnectionSettings,
  ZCreateConnection,
  ZRotateSecretToken,
  type ConnectionSettingsInput,
} from "../contracts/connections";
import type { Connection, PrismaClient } from "../db/generated/client";
import { lastFour, type SecretBox } from "../crypto/secrets";
import type { Principal } from "../auth/verify-token";
import { AppError, validationFailed, type FieldError } from "./errors";
import {
  checkGraphUrlResolved,
  checkTenantUrlResolved,
  type HostResolver,
  type TenantUrlPolicy,
} from "./tenant-url";
import { recordAudit } from "./audit";
import { applyScheduleMode } from "../cycle/schedule";
import { checkWebhookUrlResolved } from "./webhook-url";

const SECRET_EXPIRY_WARNING_DAYS = 14;

export { ZConnectionSettings, ZCreateConnection, ZRotateSecretToken, type ConnectionSettingsInput };

export interface SecretStatus {
  isSet: boolean;
  last4: string | null;
  updatedAt: string | null;
}

export interface ConnectionDto {
  id: string;
  name: string;
  version: number;
  isSandbox: boolean;
  tenantUrl: string | null;
  secretToken: SecretStatus & { expiresAt: string | null; expiresSoon: boolean; isExpired: boolean };
  graph: {
    authorityHost: string | null;
    baseUrl: string | null;
    tenantId: string | null;
    clientId: string | null;
    clientSecret: SecretStatus;
    servicePrincipalId: string | null;
  };
  scope: string;
  notificationEmail: string | null;
  notifyOnFailure: boolean;
  preventAccidentalDeletes: boolean;
  deletionThreshold: number;
  requireApprovalForDeletions: boolean;
  skipOutOfScopeDeletions: boolean;
  sourceShrinkPercent: number;
  reconcileAfterFullCycle: boolean;
  reconcileAlertEmail: boolean;
  scheduleMode: "continuous" | "interval";
  scheduleIntervalMinutes: number;
  provisioningEnabled: boolean;
  webhook: { url: string | null; secret: SecretStatus; events: string[] };
  createdAt: string;
  updatedAt: string;
}

/** What callers may see of a connection: never a secret, only whether it is set and its last four characters. */
export function toConnectionDto(connection: Connection, now = new Date()): ConnectionDto {
  const expiresAt = connection.secretTokenExpiresAt;
  const msLeft = expiresAt ? expiresAt.getTime() - now.getTime() : Number.POSITIVE_INFINITY;
  return {
    id: connection.id,
    name: connection.name,
    version: connection.version,
    isSandbox: connection.managedBySandbox,
    tenantUrl: connection.tenantUrl,
    secretToken: {
      isSet: Boolean(connection.secretTokenCipher),
      last4: connection.secretTokenLast4,
      updatedAt: connection.secretTokenUpdatedAt?.toISOString() ?? null,
      expiresAt: expiresAt?.toISOString() ?? null,
      isExpired: msLeft <= 0,
      expiresSoon: msLeft > 0 && msLeft < SECRET_EXPIRY_WARNING_DAYS * 86_400_000,
    },
    graph: {
      authorityHost: connection.graphAuthorityHost,
      baseUrl: connection.graphBaseUrl,
      tenantId: connection.graphTenantId,
      clientId: connection.graphClientId,
      clientSecret: {
        isSet: Boolean(connection.graphClientSecretCipher),
        last4: connection.graphClientSecretLast4,
        updatedAt: connection.graphClientSecretUpdatedAt?.toISOString() ?? null,
      },
      servicePrincipalId: connection.graphServicePrincipalId,
    },
    scope: connection.scope,
    notificationEmail: connection.notificationEmail,
    notifyOnFailure: connection.notifyOnFailure,
    preventAccidentalDeletes: connection.preventAccidentalDeletes,
    deletionThreshold: connection.deletionThreshold,
    requireApprovalForDeletions: connection.requireApprovalForDeletions,
    skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
    sourceShrinkPercent: connection.sourceShrinkPercent,
    reconcileAfterFullCycle: connection.reconcileAfterFullCycle,
    reconcileAlertEmail: connection.reconcileAlertEmail,
    scheduleMode: connection.scheduleMode === "continuous" ? "continuous" : "interval",
    scheduleIntervalMinutes: connection.scheduleIntervalMinutes,
    provisioningEnabled: connection.provisioningEnabled,
    webhook: {
      url: connection.webhookUrl,
      secret: {
        isSet: Boolean(connection.webhookSecretCipher),
        last4: connection.webhookSecretLast4,
        updatedAt: connection.webhookSecretUpdatedAt?.toISOString() ?? null,
      },
      events: connection.webhookEvents,
    },
    createdAt: connection.createdAt.toISOString(),
    updatedAt: connection.updatedAt.toISOString(),
  };
}

export async function listConnections(db: PrismaClient): Promise<ConnectionDto[]> {
  const rows = await db.connection.findMany({ orderBy: { createdAt: "asc" } });
  return rows.map((row) => toConnectionDto(row));
}

/**
 * Deletes a connection with its history (links, logs, cycles, jobs: the rows cascade). Nothing is
 * deleted in Dialpad or Entra. Refused while provisioning is On or a cycle is queued or running: a
 * worker would otherwise be writing a cycle whose rows vanish under it.
 */
export async function deleteConnection(
  db: PrismaClient,
  id: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<void> {
  const connection = await getConnection(db, id);
  if (connection.provisioningEnabled)
    throw new AppError("conflict", "Turn provisioning off for this connection before deleting it.");
  const busy = await db.job.count({
    where: {
      connectionId: connection.id,
      kind: { in: ["provisioning-cycle", "cycle-unit", "cycle-finalize"] },
      status: { in: ["queued", "running"] },
    },
  });
  if (busy)
    throw new AppError(
      "conflict",
      "A provisioning cycle is queued or running: stop it, then delete the connection.",
    );
  await db.$transaction(async (tx) => {
    await tx.connection.delete({ where: { id: connection.id } });
    await recordAudit(tx, {
      connectionId: null,
      activity: "Update provisioning setting or credentials",
      principal,
      changes: { connection: { before: connection.name, after: null } },
    });
  });
}

export async function getConnection(db: PrismaClient, id: string): Promise<Connection> {
  const connection = await db.connection.findUnique({ where: { id } });
  if (!connection) throw new AppError("not_found", `No connection with id ${id}.`);
  return connection;
}

interface WriteContext {
  db: PrismaClient;
  box: SecretBox;
  policy: TenantUrlPolicy;
  principal: Principal;
  /** Tests inject a resolver; by default the system's DNS. */
  resolve?: HostResolver;
}

const GRAPH_URL_FIELDS = [
  ["graphAuthorityHost", "Graph authority host"],
  ["graphBaseUrl", "Graph base URL"],
] as const;

/** Cross-field checks zod cannot express; every problem is reported, each naming its field. */
async function checkSettings(
  input: ConnectionSettingsInput,
  policy: TenantUrlPolicy,
  resolve?: HostResolver,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (input.tenantUrl) {
    const problem = await checkTenantUrlResolved(input.tenantUrl, policy, resolve);
    if (problem) errors.push({ field: "tenantUrl", message: `The tenant URL ${problem}.` });
  }
  if (input.webhookUrl) {
    const problem = await checkWebhookUrlResolved(input.webhookUrl, policy, resolve);
    if (problem) errors.push({ field: "webhookUrl", message: `The webhook URL ${problem}.` });
  }
  for (const [field, name] of GRAPH_URL_FIELDS) {
    const value = input[field];
    if (!value) continue;
    const problem = await checkGraphUrlResolved(value, policy, resolve);
    if (problem) errors.push({ field, message: `The ${name} ${problem}.` });
  }
  return errors;
}

export async function createConnection(
  context: WriteContext,
  input: z.infer<typeof ZCreateConnection>,
): Promise<ConnectionDto> {
  const errors = await checkSettings(input, context.policy, context.resolve);
  if (errors.length) throw validationFailed(errors);
  const created = await context.db.$transaction(async (tx) => {
    // New connections are continuous unless the admin chose Entra's interval (the column's default is
    // "interval" for the rows that existed before continuous mode).
    const row = await tx.connection.create({ data: { name: input.name, scheduleMode: "continuous" } });
    const updated = await tx.connection.update({
      where: { id: row.id },
      data: settingsToData(row.id, input, context.box),
    });
    requireWebhookSecret(updated);
    await recordAudit(tx, {
      connectionId: row.id,
      activity: "Add provisioning configuration",
      principal: context.principal,
      changes: describeChanges(null, updated, input),
    });
    return updated;
  });
  return toConnectionDto(created);
}

/**
 * Applies a settings change atomically: validated as a whole first, so an invalid field leaves every
 * other field as it was ("nothing is saved half-way"). `expectedVersion` guards against overwriting a
 * change another admin saved meanwhile.
 */
export async function updateConnection(
  context: WriteContext,
  id: string,
  input: ConnectionSettingsInput,
  expectedVersion?: number,
): Promise<ConnectionDto> {
  const errors = await checkSettings(input, context.policy, context.resolve);
  if (errors.length) throw validationFailed(errors);
  const updated = await context.db.$transaction(async (tx) => {
    const before = await tx.connection.findUnique({ where: { id } });
    if (!before) throw new AppError("not_found", `No connection with id ${id}.`);
    if (expectedVersion !== undefined && before.version !== expectedVersion) {
      throw new AppError(
        "conflict",
        "Someone else changed these settings since you loaded them. Reload and try again.",
      );
    }
    const after = await tx.connection.update({
      where: { id },
      data: { ...settingsToData(id, input, context.box), version: { increment: 1 } },
    });
    requireWebhookSecret(after);
    // A new mode takes over the schedule at once; turning a continuous connection On starts its polls
    // (an interval connection waits for Start, as before).
    const turnedOn = !before.provisioningEnabled && after.provisioningEnabled;
    if (before.scheduleMode !== after.scheduleMode || (after.scheduleMode === "continuous" && turnedOn))
      await applyScheduleMode(tx, id);
    await recordAudit(tx, {
      connectionId: id,
      activity: "Update provisioning setting or credentials",
      principal: context.principal,
      changes: describeChanges(before, after, input),
    });
    return after;
  });
  return toConnectionDto(updated);
}

/** Webhook requests are always signed: a URL without a secret (typed now or saved) is refused. */
function requireWebhookSecret(connection: Connection): void {
  if (connection.webhookUrl && !connection.webhookSecretCipher) {
    throw validationFailed([
      { field: "webhookSecret", message: "Enter a signing secret: every webhook request is signed with it." },
    ]);
  }
}

function settingsToData(id: string, input: ConnectionSettingsInput, box: SecretBox) {
  const { secretToken, graphClientSecret, secretTokenExpiresAt, webhookSecret, ...plain } = input;
  const now = new Date();
  return {
    ...plain,
    ...(secretTokenExpiresAt !== undefined
      ? { secretTokenExpiresAt: secretTokenExpiresAt ? new Date(secretTokenExpiresAt) : null }
      : {}),
    ...(secretToken !== undefined
      ? {
          secretTokenCipher: box.seal(secretToken, `${id}:secretToken`),
          secretTokenLast4: lastFour(secretToken),
          secretTokenUpdatedAt: now,
        }
      : {}),
    ...(graphClientSecret !== undefined
      ? {
          graphClientSecretCipher: box.seal(graphClientSecret, `${id}:graphClientSecret`),
          graphClientSecretLast4: lastFour(graphClientSecret),
          graphClientSecretUpdatedAt: now,
        }
      : {}),
    ...(webhookSecret !== undefined
      ? {
          webhookSecretCipher: box.seal(webhookSecret, `${id}:webhookSecret`),
          webhookSecretLast4: lastFour(webhookSecret),
          webhookSecretUpdatedAt: now,
        }
      : {}),
  };
}

const SECRET_LAST4 = {
  secretToken: "secretTokenLast4",
  graphClientSecret: "graphClientSecretLast4",
  webhookSecret: "webhookSecretLast4",
} as const;
const SECRET_FIELDS = new Set(Object.keys(SECRET_LAST4));

function describeChanges(
  before: Connection | null,
  after: Connection,
  input: ConnectionSettingsInput,
): Record<string, { before: unknown; after: unknown }> {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of Object.keys(input)) {
    if (SECRET_FIELDS.has(field)) {
      const last4Field = SECRET_LAST4[field as keyof typeof SECRET_LAST4];
      changes[field] = {
        before: before?.[last4Field] ? `••••${before[last4Field]}` : before ? "(not set)" : null,
        after: `••••${after[last4Field] ?? ""}`,
      };
      continue;
    }
    const key = field as keyof Connection;
    const oldValue = before ? before[key] : null;
    const newValue = after[key];
    if (JSON.stringify(oldValue) !== JSON.stringify(newValue))
      changes[field] = { before: oldValue ?? null, after: newValue ?? null };
  }
  return changes;
}

/**
 * Rotating the Dialpad key in one call: the new key replaces the old one (sealed, last four kept),
 * optionally with its expiry date, and the audit entry says a rotation happened, keys masked.
 */
export async function rotateSecretToken(
  context: Omit<WriteContext, "policy" | "resolve">,
  id: string,
  input: z.infer<typeof ZRotateSecretToken>,
): Promise<ConnectionDto> {
  const settings: ConnectionSettingsInput = {
    secretToken: input.secretToken,
    ...(input.expiresAt !== undefined ? { secretTokenExpiresAt: input.expiresAt } : {}),
  };
  const updated = await context.db.$transaction(async (tx) => {
    const before = await tx.connection.findUnique({ where: { id } });
    if (!before) throw new AppError("not_found", `No connection with id ${id}.`);
    const after = await tx.connection.update({
      where: { id },
      data: { ...settingsToData(id, settings, context.box), version: { increment: 1 } },
    });
    await recordAudit(tx, {
      connectionId: id,
      activity: "Update provisioning setting or credentials",
      principal: context.principal,
      changes: {
        operation: { before: null, after: "Rotate secret token" },
        ...describeChanges(before, after, settings),
      },
    });
    return after;
  });
  return toConnectionDto(updated);
}

/** The decrypted Dialpad key, for the engine and Test Connection only. */
export function openSecretToken(connection: Connection, box: SecretBox): string | null {
  return connection.secretTokenCipher
    ? box.open(connection.secretTokenCipher, `${connection.id}:secretToken`)
    : null;
}

/** The webhook's signing key, for the worker that delivers and the test event only. */
export function openWebhookSecret(connection: Connection, box: SecretBox): string | null {
  return connection.webhookSecretCipher
    ? box.open(connection.webhookSecretCipher, `${connection.id}:webhookSecret`)
    : null;
}

export function openGraphClientSecret(connection: Connection, box: SecretBox): string | null {
  return connection.graphClientSecretCipher
    ? box.open(connection.graphClientSecretCipher, `${connection.id}:graphClientSecret`)
    : null;
}
