import { z } from "zod";

/** Health, the signed-in principal, and Prometheus metrics. */

export const ZHealth = z.union([
  z.object({
    status: z.enum(["ok", "degraded"]),
    database: z.object({ reachable: z.literal(true), latencyMs: z.number() }),
    workers: z.object({
      live: z.number().int(),
      newestHeartbeatAgeSeconds: z.number().int().nullable(),
      staleAfterSeconds: z.number().int(),
    }),
  }),
  z.object({
    status: z.literal("error"),
    database: z.object({ reachable: z.literal(false), error: z.string() }),
  }),
]);

export const ZMe = z.object({
  objectId: z.string(),
  upn: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  /** Holds Provisioning.Admin: may change settings and start provisioning. */
  canWrite: z.boolean(),
});
export type Me = z.infer<typeof ZMe>;

export const ZMetrics = z.string().describe("Prometheus text exposition format 0.0.4");
