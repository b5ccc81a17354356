import { z } from "zod";

/** Graph objects pass through untouched (selected properties, @odata.type, @removed, members@delta). */
export const graphDirectoryObjectSchema = z.looseObject({
  id: z.string().min(1),
  "@odata.type": z.string().optional(),
  "@removed": z.looseObject({ reason: z.string().optional() }).optional(),
});
export type GraphDirectoryObject = z.infer<typeof graphDirectoryObjectSchema>;

export const graphUserSchema = graphDirectoryObjectSchema.extend({
  userPrincipalName: z.string().nullable().optional(),
  displayName: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  accountEnabled: z.boolean().nullable().optional(),
});
export type GraphUser = z.infer<typeof graphUserSchema>;

const memberDeltaSchema = graphDirectoryObjectSchema;

export const graphGroupSchema = graphDirectoryObjectSchema.extend({
  displayName: z.string().nullable().optional(),
  mailNickname: z.string().nullable().optional(),
  "members@delta": z.array(memberDeltaSchema).optional(),
});
export type GraphGroup = z.infer<typeof graphGroupSchema>;

export const graphAppRoleSchema = z.looseObject({
  id: z.string(),
  value: z.string().nullable().optional(),
  displayName: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  isEnabled: z.boolean().optional(),
  allowedMemberTypes: z.array(z.string()).optional(),
});
export type GraphAppRole = z.infer<typeof graphAppRoleSchema>;

export const graphServicePrincipalSchema = z.looseObject({
  id: z.string(),
  appId: z.string().optional(),
  displayName: z.string().nullable().optional(),
  appRoles: z.array(graphAppRoleSchema).default([]),
});
export type GraphServicePrincipal = z.infer<typeof graphServicePrincipalSchema>;

export const graphAppRoleAssignmentSchema = z.looseObject({
  id: z.string(),
  appRoleId: z.string(),
  principalId: z.string(),
  principalType: z.string().nullable().optional(),
  principalDisplayName: z.string().nullable().optional(),
  resourceId: z.string().optional(),
  createdDateTime: z.string().nullable().optional(),
});
export type GraphAppRoleAssignment = z.infer<typeof graphAppRoleAssignmentSchema>;

/**
 * An item of directoryObjects/delta filtered to app role assignments: a whole assignment, or only its id
 * with "@removed" once it is gone (unassigned, or its principal deleted or soft-deleted).
 */
export const graphAssignmentChangeSchema = z.looseObject({
  id: z.string().min(1),
  "@odata.type": z.string().optional(),
  principalId: z.string().optional(),
  principalType: z.string().optional(),
  resourceId: z.string().optional(),
  appRoleId: z.string().optional(),
  "@removed": z.looseObject({ reason: z.string() }).optional(),
});
export type GraphAssignmentChange = z.infer<typeof graphAssignmentChangeSchema>;

/** A directory extension definition (Graph's extensionProperty), as getAvailableExtensionProperties lists it. */
export const graphExtensionPropertySchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  appDisplayName: z.string().nullable().optional(),
  dataType: z.string().optional(),
  isMultiValued: z.boolean().optional(),
  isSyncedFromOnPremises: z.boolean().nullable().optional(),
  targetObjects: z.array(z.string()).default([]),
});
export type GraphExtensionProperty = z.infer<typeof graphExtensionPropertySchema>;

export function graphCollectionSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    value: z.array(item),
    "@odata.nextLink": z.string().optional(),
    "@odata.deltaLink": z.string().optional(),
  });
}

export const graphErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string().optional(),
    innerError: z.looseObject({ "request-id": z.string().optional() }).optional(),
  }),
});

/** One page of a Graph collection. Delta: the last page carries deltaLink instead of nextLink. */
export interface GraphPage<T> {
  value: T[];
  nextLink?: string;
  deltaLink?: string;
}
