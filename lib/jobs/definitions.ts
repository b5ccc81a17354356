import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../notify/webhook";

/**
 * Job kinds and their payload schemas. Payloads are validated when a job is enqueued and again when a
 * worker claims it: a row written by an older release, or by hand, must not reach a handler unchecked.
 */
export const JOB_KINDS = [
  "provisioning-cycle",
  "on-demand",
  "test-connection",
  "export",
  "notification",
  "maintenance",
  "cycle-unit",
  "cycle-finalize",
  "webhook",
  "plan-preview",
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const ZJobPayloads = {
  "provisioning-cycle": z
    .object({
      connectionId: z.string().uuid(),
      trigger: z.enum(["schedule", "start", "restart", "config-change", "quarantine-retry"]),
      dryRun: z.boolean().default(false),
    })
    .strict(),
  "on-demand": z
    .object({
      connectionId: z.string().uuid(),
      subjects: z
        .array(
          z
            .object({
              objectId: z.string().min(1),
              objectTypeName: z.enum(["User", "Group"]),
              links: z
                .object({
                  members: z
                    .array(
                      z.object({ objectId: z.string().min(1), objectTypeName: z.literal("User") }).strict(),
                    )
                    .max(5),
                })
                .strict()
                .optional(),
            })
            .strict(),
        )
        .length(1),
      initiatedBy: z.string().min(1),
      /** A Replay: the failed log entry this run retries. */
      replayOf: z.string().uuid().optional(),
    })
    .strict(),
  "plan-preview": z
    .object({
      connectionId: z.string().uuid(),
      previewId: z.string().uuid(),
      mode: z.enum(["compute", "apply"]),
    })
    .strict(),
  "test-connection": z.object({ connectionId: z.string().uuid() }).strict(),
  export: z.object({ connectionId: z.string().uuid(), format: z.enum(["json", "csv"]) }).strict(),
  notification: z
    .object({
      connectionId: z.string().uuid(),
      template: z.enum(["quarantine", "deletions-held", "failure"]),
      data: z.record(z.string(), z.unknown()),
    })
    .strict(),
  maintenance: z.object({ task: z.enum(["prune"]) }).strict(),
  /**
   * One unit (page of objects) of a cycle; enqueued by lib/jobs/cycles.ts `enqueueCycleUnits`, never
   * directly, because the unit's accounting row is written in the same transaction.
   */
  "cycle-unit": z
    .object({
      connectionId: z.string().uuid(),
      cycleId: z.string().uuid(),
      unitIndex: z.number().int().min(0),
      /** What the engine does in this unit (e.g. "users", "groups", "references"). */
      phase: z.string().min(1).max(64),
      /** Engine-defined input of the unit: a page cursor, a list of object ids, … */
      input: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
  /** Enqueued exactly once, when the last unit of a cycle finished (or Stop cancelled the rest). */
  "cycle-finalize": z.object({ connectionId: z.string().uuid(), cycleId: z.string().uuid() }).strict(),
  /**
   * One event for the connection's webhook; enqueued by lib/jobs/webhook-events.ts. The URL and secret
   * are read when it is sent, so neither is copied into the job table.
   */
  webhook: z
    .object({
      connectionId: z.string().uuid(),
      event: z
        .object({
          id: z.string().uuid(),
          type: z.enum(WEBHOOK_EVENT_TYPES),
          occurredAt: z.iso.datetime({ offset: true }),
          data: z.record(z.string(), z.unknown()),
        })
        .strict(),
    })
    .strict(),
} satisfies Record<JobKind, z.ZodType>;

export type JobPayload<K extends JobKind> = z.infer<(typeof ZJobPayloads)[K]>;

export function parseJobPayload<K extends JobKind>(kind: K, payload: unknown): JobPayload<K> {
  const result = ZJobPayloads[kind].safeParse(payload);
  if (!result.success) {
    throw new InvalidPayloadError(
      kind,
      result.error.issues
        .map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`)
        .join("; "),
    );
  }
  return result.data as JobPayload<K>;
}

export function isJobKind(value: string): value is JobKind {
  return (JOB_KINDS as readonly string[]).includes(value);
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
