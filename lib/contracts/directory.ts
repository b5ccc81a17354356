import { z } from "zod";
import { ZConnectionParams } from "./common";

/** Entra directory reads for the console's pickers (on-demand provisioning, expression preview). */

export const ZDirectorySearch = z
  .object({ search: z.string().trim().min(1, "type at least one character").max(100) })
  .strict();

export const ZGroupMemberSearch = z.object({ search: z.string().trim().max(100).optional() }).strict();

export const ZGroupMembersParams = ZConnectionParams.extend({
  groupId: z.string().trim().min(1).max(200),
}).strict();

export const ZDirectoryUser = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
  mail: z.string().nullable(),
});

export const ZDirectoryUserMatch = ZDirectoryUser.extend({
  /**
   * Assigned to the app (so in scope when the app provisions assigned users only); null when the app
   * provisions all users and nothing was checked.
   */
  assigned: z.boolean().nullable(),
});

/** Either picker's user: the search says whether each is assigned, a group's member list does not. */
export type DirectoryUser = z.infer<typeof ZDirectoryUser> & { assigned?: boolean | null };

export const ZDirectoryUsers = z.object({ users: z.array(ZDirectoryUserMatch) });

export const ZDirectoryGroup = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  mail: z.string().nullable(),
  description: z.string().nullable(),
});
export type DirectoryGroup = z.infer<typeof ZDirectoryGroup>;

export const ZDirectoryGroups = z.object({ groups: z.array(ZDirectoryGroup) });

export const ZGroupMembers = z.object({
  members: z.array(ZDirectoryUser),
  /** How many direct user members match (only the first 50 are listed). */
  total: z.number().int(),
  /** false: the group is so large that only its first members were read. */
  complete: z.boolean(),
});
export type GroupMembers = z.infer<typeof ZGroupMembers>;
