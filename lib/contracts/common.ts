import { z } from "zod";

/**
 * What every route shares: the connection path parameter, timestamps as they travel (ISO 8601 strings,
 * the server's Date objects serialized) and the RFC 9457 problem body every failure is answered with.
 */
export const ZConnectionParams = z.object({ connectionId: z.uuid("is not a connection id") }).strict();

/** A timestamp on the wire: JSON.stringify of a Date, or toISOString(). */
export const ZTimestamp = z.iso.datetime({ offset: true });

export const ZFieldError = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof ZFieldError>;

export const ZProblem = z
  .object({
    type: z.string().describe("urn:problem:<code>"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    /** One entry per invalid field, when the request was refused for its input. */
    errors: z.array(ZFieldError).optional(),
  })
  .describe("RFC 9457 problem details");
export type Problem = z.infer<typeof ZProblem>;

/** Values the API passes through unchanged from stored JSON (Prisma Json columns, Graph objects). */
export const ZJsonValue = z.unknown();
