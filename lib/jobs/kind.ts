import type { z } from "zod";
import type { Prisma } from "../db/generated/client";

/**
 * A kind of job, declared by the module that owns it (the cycle engine, on-demand, webhooks, retention):
 * its name, the schema of its payload, and optionally a hook the store calls inside the transaction that
 * ends a job of this kind. The job store itself knows no kind, so it never imports their code.
 */
export interface JobKind<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly payload: S;
  /**
   * Runs in the transaction that moves a job of this kind to a final status (or cancels it unrun), so the
   * owner's bookkeeping commits together with the job's own status or not at all.
   */
  readonly onEnd?: (tx: Prisma.TransactionClient, end: JobEnd) => Promise<void>;
}

export type JobPayloadOf<K extends JobKind> = z.output<K["payload"]>;
export type JobPayloadInput<K extends JobKind> = z.input<K["payload"]>;

export interface JobEnd {
  jobId: string;
  status: "succeeded" | "failed" | "cancelled";
  /** The failure or cancellation reason. */
  error?: string;
}

export function defineJobKind<S extends z.ZodType>(
  name: string,
  payload: S,
  options: { onEnd?: JobKind<S>["onEnd"] } = {},
): JobKind<S> {
  return { name, payload, ...options };
}

/** Payloads are checked at enqueue and again at claim: a row written by another release or by hand must not reach a handler unchecked. */
export function parseJobPayload<K extends JobKind>(kind: K, payload: unknown): JobPayloadOf<K> {
  const result = kind.payload.safeParse(payload);
  if (!result.success) {
    throw new InvalidPayloadError(
      kind.name,
      result.error.issues
        .map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`)
        .join("; "),
    );
  }
  return result.data as JobPayloadOf<K>;
}

export class InvalidPayloadError extends Error {
  readonly permanent = true;
  constructor(
    readonly kind: string,
    readonly details: string,
  ) {
    super(`Invalid payload for job kind "${kind}": ${details}`);
    this.name = "InvalidPayloadError";
  }
}

/** Thrown by handlers for failures a retry cannot fix (bad credentials, invalid configuration). */
export class PermanentJobError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}

export function isPermanentError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { permanent?: unknown }).permanent === true;
}
