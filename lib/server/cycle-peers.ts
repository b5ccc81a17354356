import { type Connection, type PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import type { JobLease } from "../jobs/lease";
import type { Mailer } from "../notify/mailer";
import { createAdaptiveLimiter, type RequestLimiter, type ScimExchange } from "../scim";
import { SharedRequestBudget } from "./request-budget";
import { recordScimExchange } from "../metrics/scim-exchanges";
import { type EscrowThresholds } from "../sync/quarantine";
import { scimClientFor } from "./peers";

/** What every part of a cycle shares: its options, and the Dialpad client of a job attempt (budget, metrics, lease). */

export const SYSTEM = { objectId: "00000000-0000-0000-0000-000000000000", upn: "System" };
export interface RunCycleOptions {
  /** null: no e-mail. Default: from SMTP_* settings. */
  mailer?: Mailer | null;
  /** Dialpad requests per second for this cycle (Dialpad publishes 20 per company). */
  requestsPerSecond?: number;
  escrowThresholds?: EscrowThresholds;
  /**
   * User operations per cycle unit. Inside a provisioning-cycle job, a cycle with more than one page of
   * user operations fans out into cycle-unit jobs that any worker runs; default 100.
   */
  unitPageSize?: number;
  /** Operations a preview writes to its rows at a time; default 500. */
  previewPageSize?: number;
  now?: () => Date;
  log?: {
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  };
  /** The job attempt's lease: every write of the attempt is fenced by it. */
  lease?: JobLease;
  /** Aborted when the worker drains or lost the lease: a unit stops before its next object. */
  signal?: AbortSignal;
}

/**
 * The limiter of a Dialpad client. By default the connection's request budget is shared through
 * PostgreSQL by every worker on every host (Dialpad's 20 requests/second are per company); a test may
 * ask for an in-process limiter at its own rate.
 */
export function limiterFor(
  db: PrismaClient,
  connectionId: string,
  options: { requestsPerSecond?: number },
): RequestLimiter {
  if (options.requestsPerSecond !== undefined)
    return createAdaptiveLimiter({ ratePerSecond: options.requestsPerSecond });
  return new SharedRequestBudget({ db, connectionId });
}

/** Every SCIM exchange counts towards the per-status request metrics. */
export function metricsFor(connectionId: string) {
  return (exchange: ScimExchange) => recordScimExchange(connectionId, exchange);
}

/**
 * The Dialpad client of a cycle's job attempt: the connection's shared request budget, the request
 * metrics, and no write once the attempt may have lost its lease.
 */
export function cycleScimClient(
  db: PrismaClient,
  connection: Connection,
  box: SecretBox,
  options: RunCycleOptions,
) {
  const { lease } = options;
  return scimClientFor(connection, box, {
    limiter: limiterFor(db, connection.id, options),
    onExchange: metricsFor(connection.id),
    ...(lease ? { beforeWrite: () => lease.assertHeld() } : {}),
  });
}

export function defaultBox(): SecretBox {
  const settings = env();
  return new SecretBox(loadSecretKey({ secretKey: settings.SECRET_KEY, dataDir: settings.DATA_DIR }));
}
