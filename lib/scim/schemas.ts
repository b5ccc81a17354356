import { z } from "zod";

export const SCIM_SCHEMAS = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  enterpriseUser: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  listResponse: "urn:ietf:params:scim:api:messages:2.0:ListResponse",
  patchOp: "urn:ietf:params:scim:api:messages:2.0:PatchOp",
  error: "urn:ietf:params:scim:api:messages:2.0:Error",
} as const;

/** Any SCIM resource we read back: all we rely on is a server-assigned `id`; the rest passes through. */
export const scimResourceSchema = z.looseObject({
  id: z.string().min(1),
  schemas: z.array(z.string()).optional(),
  externalId: z.string().optional(),
  meta: z.looseObject({ resourceType: z.string().optional(), location: z.string().optional() }).optional(),
});
export type ScimResource = z.infer<typeof scimResourceSchema>;

export const scimUserSchema = scimResourceSchema.extend({
  userName: z.string(),
  active: z.union([z.boolean(), z.string()]).optional(),
});
export type ScimUser = z.infer<typeof scimUserSchema>;

export const scimGroupSchema = scimResourceSchema.extend({
  displayName: z.string(),
  members: z
    .array(
      z.looseObject({
        value: z.string(),
        $ref: z.string().nullable().optional(),
        display: z.string().optional(),
      }),
    )
    .optional(),
});
export type ScimGroup = z.infer<typeof scimGroupSchema>;

// Some targets send numbers as strings; RFC 7644 says integers, but refusing "3" gains nothing.
const scimInteger = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

export function listResponseSchema<T extends z.ZodType>(resource: T) {
  return z.looseObject({
    schemas: z.array(z.string()).optional(),
    totalResults: scimInteger,
    startIndex: scimInteger.optional(),
    itemsPerPage: scimInteger.optional(),
    // RFC 7644 §3.4.2: "Resources" may be left out when there are no results.
    Resources: z.array(resource).optional().default([]),
  });
}
export interface ScimListResponse<T> {
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources: T[];
}

export const scimErrorBodySchema = z.looseObject({
  schemas: z.array(z.string()).optional(),
  status: z.union([z.string(), z.number()]).optional(),
  scimType: z.string().optional(),
  detail: z.string().optional(),
});

export const serviceProviderConfigSchema = z.looseObject({
  patch: z.looseObject({ supported: z.boolean() }).optional(),
  bulk: z
    .looseObject({
      supported: z.boolean(),
      maxOperations: z.number().optional(),
      maxPayloadSize: z.number().optional(),
    })
    .optional(),
  filter: z.looseObject({ supported: z.boolean(), maxResults: z.number().optional() }).optional(),
  changePassword: z.looseObject({ supported: z.boolean() }).optional(),
  sort: z.looseObject({ supported: z.boolean() }).optional(),
  etag: z.looseObject({ supported: z.boolean() }).optional(),
  authenticationSchemes: z
    .array(z.looseObject({ type: z.string().optional(), name: z.string().optional() }))
    .optional(),
});
export type ServiceProviderConfig = z.infer<typeof serviceProviderConfigSchema>;

export const scimSchemaDefinitionSchema = scimResourceSchema.extend({
  name: z.string().optional(),
  attributes: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type ScimSchemaDefinition = z.infer<typeof scimSchemaDefinitionSchema>;

export const scimResourceTypeSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  endpoint: z.string(),
  schema: z.string(),
  schemaExtensions: z
    .array(z.looseObject({ schema: z.string(), required: z.boolean().optional() }))
    .optional(),
});
export type ScimResourceType = z.infer<typeof scimResourceTypeSchema>;

/** Entra sends capitalised ops by default and lower case with the aadOptscim062020 flag; both are valid. */
export type ScimPatchOperation =
  | { op: "Add" | "add" | "Replace" | "replace"; path?: string; value: unknown }
  | { op: "Remove" | "remove"; path: string; value?: unknown };

/** What we send on create/replace: no `id`, schemas required. */
export type ScimResourceInput = { schemas: string[] } & Record<string, unknown>;
