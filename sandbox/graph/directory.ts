import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ExtensionRegistry } from "./extensions";
import { OrderedIndex } from "./ordered-index";

/**
 * The in-memory Entra directory behind the Graph emulator: users, groups, direct memberships, the
 * "Dialpad" enterprise app's service principal and its app role assignments.
 *
 * Records are immutable snapshots (an update stores a new object), so a caller holding a returned
 * user never sees it change underneath. Every mutation appends to a change log with a monotonically
 * increasing sequence number; delta tokens are positions in that log.
 */

export const DIALPAD_SERVICE_PRINCIPAL_ID = "5f3c1a9e-7b42-4d18-9c6a-2e8b0d4f71a3";
/** The Dialpad gallery application's appId as registered in the sandbox tenant. */
export const DIALPAD_APP_ID = "c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/** Entra's implicit "Default Access" role: used when an assignment names no app role. */
export const DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000";
export const DIALPAD_USER_ROLE_ID = "8d2f6b1e-3c4a-4e5b-9f60-7a1b2c3d4e51";
export const DIALPAD_ADMIN_ROLE_ID = "2b7e9c4d-1f3a-4b6c-8d5e-9a0b1c2d3e62";

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  givenName: string | null;
  surname: string | null;
  displayName: string | null;
  jobTitle: string | null;
  department: string | null;
  mailNickname: string | null;
  accountEnabled: boolean;
  /** Graph exposes the on-premises telephoneNumber as a one-element collection. */
  businessPhones: string[];
  mobilePhone: string | null;
  /** Graph's name for physicalDeliveryOfficeName. */
  officeLocation: string | null;
  country: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
  streetAddress: string | null;
  usageLocation: string | null;
  preferredLanguage: string | null;
  companyName: string | null;
  employeeId: string | null;
  employeeType: string | null;
  userType: "Member" | "Guest";
  proxyAddresses: string[];
  createdDateTime: string;
  /** Set while the user sits in deleted items (soft-deleted). */
  deletedDateTime: string | null;
}

export interface GraphGroup {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  mailEnabled: boolean;
  mailNickname: string;
  securityEnabled: boolean;
  groupTypes: string[];
  visibility: string | null;
  createdDateTime: string;
  deletedDateTime: string | null;
}

export interface AppRole {
  id: string;
  allowedMemberTypes: string[];
  description: string;
  displayName: string;
  isEnabled: boolean;
  origin: "Application";
  value: string | null;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  appDisplayName: string;
  displayName: string;
  accountEnabled: boolean;
  appRoleAssignmentRequired: boolean;
  servicePrincipalType: "Application";
  servicePrincipalNames: string[];
  tags: string[];
  appRoles: AppRole[];
  createdDateTime: string;
  deletedDateTime: null;
}

export type PrincipalType = "User" | "Group";

export interface AppRoleAssignmentRecord {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType: PrincipalType;
  resourceId: string;
  createdDateTime: string;
}

export type MemberType = "user" | "group";

export interface MemberRef {
  id: string;
  type: MemberType;
}

export class DirectoryError extends Error {
  constructor(
    readonly kind: "NotFound" | "Conflict" | "Invalid",
    message: string,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}

// ---------- input schemas (used by the admin API; the typed methods validate the same way) ----------

const nullableString = z.string().nullable();
const userFields = {
  userPrincipalName: z
    .string()
    .min(3)
    .regex(/^[^@\s]+@[^@\s]+$/, "userPrincipalName must look like alias@domain"),
  mail: nullableString,
  givenName: nullableString,
  surname: nullableString,
  displayName: nullableString,
  jobTitle: nullableString,
  department: nullableString,
  mailNickname: nullableString,
  accountEnabled: z.boolean(),
  businessPhones: z.array(z.string()).max(1, "Graph allows only one business phone"),
  mobilePhone: nullableString,
  officeLocation: nullableString,
  country: nullableString,
  city: nullableString,
  state: nullableString,
  postalCode: nullableString,
  streetAddress: nullableString,
  usageLocation: nullableString,
  preferredLanguage: nullableString,
  companyName: nullableString,
  employeeId: nullableString,
  employeeType: nullableString,
  userType: z.enum(["Member", "Guest"]),
  proxyAddresses: z.array(z.string()),
};
export const userPatchSchema = z.strictObject(userFields).partial();
export const userInputSchema = z
  .strictObject({ ...userFields, id: z.uuid(), createdDateTime: z.iso.datetime() })
  .partial();
export type UserPatch = z.infer<typeof userPatchSchema>;
export type UserInput = z.infer<typeof userInputSchema>;

const groupFields = {
  displayName: z.string().min(1),
  description: nullableString,
  mail: nullableString,
  mailEnabled: z.boolean(),
  mailNickname: z.string().min(1),
  securityEnabled: z.boolean(),
  groupTypes: z.array(z.string()),
  visibility: nullableString,
};
export const groupPatchSchema = z.strictObject(groupFields).partial();
export const groupInputSchema = z
  .strictObject({ ...groupFields, id: z.uuid(), createdDateTime: z.iso.datetime() })
  .partial()
  .required({ displayName: true });
export type GroupPatch = z.infer<typeof groupPatchSchema>;
export type GroupInput = z.infer<typeof groupInputSchema>;

// ---------- change log ----------

/** What a change log entry is about; an "assignment" entry's id is the app role assignment's id. */
export type ChangeKind = "user" | "group" | "assignment";

interface ChangeEntry {
  seq: number;
  kind: ChangeKind;
  id: string;
  /** Properties that changed; null means the whole object (created, deleted, restored). */
  props: readonly string[] | null;
  /** For a membership change of a group: the member whose link changed. */
  member?: MemberRef;
}

/** What changed for one object over a window of the change log. */
export interface ChangeSummary {
  id: string;
  whole: boolean;
  props: Set<string>;
  /** Members whose link to this group changed (group changes only). */
  members: Map<string, MemberType>;
}

interface GroupState {
  group: GraphGroup;
  /** memberId → its type; a bare string value keeps 200,000 memberships cheap. */
  members: OrderedIndex<MemberType>;
}

const USER_SCHEMA_KEYS = new Set(Object.keys(userFields));
const GROUP_SCHEMA_KEYS = new Set(Object.keys(groupFields));

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new DirectoryError(
      "Invalid",
      result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    );
  }
  return result.data;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

let generationCounter = 0;

export class Directory {
  private readonly users = new OrderedIndex<GraphUser>();
  private readonly upnIndex = new Map<string, string>();
  private readonly groups = new OrderedIndex<GroupState>();
  /** memberId → groups that list it directly (small arrays: cheaper than a Set per user). */
  private readonly memberOfIndex = new Map<string, string[]>();
  private readonly assignments = new OrderedIndex<AppRoleAssignmentRecord>();
  private readonly assignmentsByPrincipal = new Map<string, Set<string>>();
  private changes: ChangeEntry[] = [];
  private seq = 0;
  private tracking = true;
  private gen = `${Date.now().toString(36)}${(generationCounter++).toString(36)}`;
  readonly servicePrincipal: ServicePrincipal = createDialpadServicePrincipal();
  /** Extension definitions belong to applications, so reset() keeps them as it keeps the service principal. */
  readonly extensions = new ExtensionRegistry();

  /** Identifies this incarnation of the data; delta tokens from before a reset() are refused. */
  get generation(): string {
    return this.gen;
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** Drops all objects; the service principal stays, as it does in a real tenant. */
  reset(): void {
    this.users.clear();
    this.upnIndex.clear();
    this.groups.clear();
    this.memberOfIndex.clear();
    this.assignments.clear();
    this.assignmentsByPrincipal.clear();
    this.changes = [];
    this.seq = 0;
    this.gen = `${Date.now().toString(36)}${(generationCounter++).toString(36)}`;
  }

  summary(): {
    users: number;
    deletedUsers: number;
    disabledUsers: number;
    groups: number;
    memberships: number;
    appRoleAssignments: number;
    changeSequence: number;
  } {
    let deletedUsers = 0;
    let disabledUsers = 0;
    for (const user of this.users.values()) {
      if (user.deletedDateTime) deletedUsers++;
      else if (!user.accountEnabled) disabledUsers++;
    }
    let memberships = 0;
    for (const state of this.groups.values()) memberships += state.members.size;
    return {
      users: this.users.size - deletedUsers,
      deletedUsers,
      disabledUsers,
      groups: this.groups.size,
      memberships,
      appRoleAssignments: this.assignments.size,
      changeSequence: this.seq,
    };
  }

  /**
   * Runs `load` without recording changes, then starts a new generation: a bulk load (seeding) happens
   * before any delta round can have started, so nobody needs its log entries and 300,000 of them would
   * only cost time and memory.
   */
  bulkLoad(load: (directory: this) => void): void {
    this.tracking = false;
    try {
      load(this);
    } finally {
      this.tracking = true;
      this.changes = [];
      this.gen = `${Date.now().toString(36)}${(generationCounter++).toString(36)}`;
    }
  }

  // ---------- users ----------

  /**
   * Adds a user. Typed callers are trusted to pass well-typed values (the admin API validates
   * untrusted bodies with userInputSchema first); skipping a schema parse here keeps seeding
   * 100,000 users fast.
   */
  addUser(data: UserInput = {}): GraphUser {
    if (data.userPrincipalName !== undefined && !/^[^@\s]+@[^@\s]+$/.test(data.userPrincipalName)) {
      throw new DirectoryError("Invalid", "userPrincipalName must look like alias@domain");
    }
    const id = (data.id ?? randomUUID()).toLowerCase();
    if (this.users.has(id) || this.groups.has(id))
      throw new DirectoryError("Conflict", `An object with id '${id}' already exists.`);
    const alias = data.mailNickname ?? `user${this.users.highWaterMark + 1}`;
    const upn = data.userPrincipalName ?? `${alias}@contoso.example`;
    if (this.upnIndex.has(upn.toLowerCase())) {
      throw new DirectoryError(
        "Conflict",
        "Another object with the same value for property userPrincipalName already exists.",
      );
    }
    const user: GraphUser = {
      id,
      userPrincipalName: upn,
      mail: data.mail === undefined ? null : data.mail,
      givenName: data.givenName ?? null,
      surname: data.surname ?? null,
      displayName: data.displayName ?? null,
      jobTitle: data.jobTitle ?? null,
      department: data.department ?? null,
      mailNickname: data.mailNickname ?? upn.split("@")[0]!,
      accountEnabled: data.accountEnabled ?? true,
      businessPhones: data.businessPhones ?? [],
      mobilePhone: data.mobilePhone ?? null,
      officeLocation: data.officeLocation ?? null,
      country: data.country ?? null,
      city: data.city ?? null,
      state: data.state ?? null,
      postalCode: data.postalCode ?? null,
      streetAddress: data.streetAddress ?? null,
      usageLocation: data.usageLocation ?? null,
      preferredLanguage: data.preferredLanguage ?? null,
      companyName: data.companyName ?? null,
      employeeId: data.employeeId ?? null,
      employeeType: data.employeeType ?? null,
      userType: data.userType ?? "Member",
      proxyAddresses: data.proxyAddresses ?? [],
      createdDateTime: data.createdDateTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      deletedDateTime: null,
    };
    this.users.set(id, user);
    this.upnIndex.set(upn.toLowerCase(), id);
    this.log("user", id, null);
    return user;
  }

  /** An active (not soft-deleted) user by object id or userPrincipalName, as Graph resolves /users/{id|upn}. */
  getUser(idOrUpn: string): GraphUser | undefined {
    const user = this.findUser(idOrUpn);
    return user && !user.deletedDateTime ? user : undefined;
  }

  /** A user in deleted items. */
  getDeletedUser(id: string): GraphUser | undefined {
    const user = this.users.get(id.toLowerCase());
    return user?.deletedDateTime ? user : undefined;
  }

  updateUser(id: string, patch: UserPatch): GraphUser {
    const current = this.requireActiveUser(id);
    for (const key of Object.keys(patch)) {
      if (!USER_SCHEMA_KEYS.has(key))
        throw new DirectoryError("Invalid", `Property '${key}' cannot be updated.`);
    }
    const data = parseOrThrow(userPatchSchema, patch);
    const changed: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined && !sameValue((current as unknown as Record<string, unknown>)[key], value))
        changed.push(key);
    }
    if (changed.length === 0) return current;
    if (data.userPrincipalName !== undefined && changed.includes("userPrincipalName")) {
      const owner = this.upnIndex.get(data.userPrincipalName.toLowerCase());
      if (owner && owner !== current.id) {
        throw new DirectoryError(
          "Conflict",
          "Another object with the same value for property userPrincipalName already exists.",
        );
      }
      this.upnIndex.delete(current.userPrincipalName.toLowerCase());
      this.upnIndex.set(data.userPrincipalName.toLowerCase(), current.id);
    }
    const next = { ...current } as unknown as Record<string, unknown>;
    for (const key of changed) next[key] = (data as Record<string, unknown>)[key];
    const user = next as unknown as GraphUser;
    this.users.set(user.id, user);
    this.log("user", user.id, changed);
    return user;
  }

  /**
   * Sets (or with null clears) a directory extension attribute of a user; the extension must be
   * registered for users. The value sits on the user's record, so `$select` and delta read it as Graph does.
   */
  setUserExtension(id: string, extensionName: string, value: unknown): GraphUser {
    const current = this.requireActiveUser(id);
    const definition = this.extensions.find(extensionName);
    if (!definition?.targetObjects.includes("User"))
      throw new DirectoryError(
        "Invalid",
        `No extension property '${extensionName}' is registered for users.`,
      );
    const next = { ...current } as unknown as Record<string, unknown>;
    if (value === null) delete next[definition.name];
    else next[definition.name] = value;
    const user = next as unknown as GraphUser;
    this.users.set(user.id, user);
    this.log("user", user.id, [definition.name]);
    return user;
  }

  /** Moves the user to deleted items: hidden from /users, its memberships and assignments suspended. */
  softDeleteUser(id: string): GraphUser {
    const current = this.requireActiveUser(id);
    const user: GraphUser = {
      ...current,
      deletedDateTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    this.users.set(user.id, user);
    this.log("user", user.id, null);
    // Group delta reports the member as removed while the user is in deleted items.
    for (const groupId of this.memberOfIndex.get(user.id) ?? [])
      this.log("group", groupId, ["members"], { id: user.id, type: "user" });
    // Its assignments disappear from Graph too (directoryObjects/delta reports them removed).
    this.logAssignmentsOf(user.id);
    return user;
  }

  /** Restores a soft-deleted user together with its memberships and assignments. */
  restoreUser(id: string): GraphUser {
    const current = this.users.get(id.toLowerCase());
    if (!current?.deletedDateTime)
      throw new DirectoryError(
        "NotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    const user: GraphUser = { ...current, deletedDateTime: null };
    this.users.set(user.id, user);
    this.log("user", user.id, null);
    for (const groupId of this.memberOfIndex.get(user.id) ?? [])
      this.log("group", groupId, ["members"], { id: user.id, type: "user" });
    this.logAssignmentsOf(user.id);
    return user;
  }

  /** Permanently deletes an active or soft-deleted user. */
  hardDeleteUser(id: string): void {
    const user = this.users.get(id.toLowerCase());
    if (!user)
      throw new DirectoryError(
        "NotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    const wasVisible = !user.deletedDateTime;
    for (const groupId of this.memberOfIndex.get(user.id) ?? []) {
      this.groups.get(groupId)?.members.delete(user.id);
      // A soft-deleted user's removal was already reported when it left the visible membership.
      if (wasVisible) this.log("group", groupId, ["members"], { id: user.id, type: "user" });
    }
    this.memberOfIndex.delete(user.id);
    // A soft-deleted user's assignments were reported removed when it went to deleted items.
    this.dropAssignmentsOf(user.id, wasVisible);
    this.users.delete(user.id);
    this.upnIndex.delete(user.userPrincipalName.toLowerCase());
    this.log("user", user.id, null);
  }

  /** Active users in directory order. */
  listUsers(): GraphUser[] {
    return [...this.activeUsersAfter(0)].map((entry) => entry.user);
  }

  listDeletedUsers(): GraphUser[] {
    const result: GraphUser[] = [];
    for (const user of this.users.values()) if (user.deletedDateTime) result.push(user);
    return result;
  }

  /** Active users whose position is after `afterOrd`; the ordinal is the paging cursor. */
  *activeUsersAfter(afterOrd: number): Generator<{ ord: number; user: GraphUser }> {
    for (const entry of this.users.after(afterOrd)) {
      if (!entry.value.deletedDateTime) yield { ord: entry.ord, user: entry.value };
    }
  }

  *deletedUsersAfter(afterOrd: number): Generator<{ ord: number; user: GraphUser }> {
    for (const entry of this.users.after(afterOrd)) {
      if (entry.value.deletedDateTime) yield { ord: entry.ord, user: entry.value };
    }
  }

  // ---------- groups ----------

  addGroup(data: GroupInput): GraphGroup {
    if (!data.displayName) throw new DirectoryError("Invalid", "displayName is required");
    const id = (data.id ?? randomUUID()).toLowerCase();
    if (this.groups.has(id) || this.users.has(id))
      throw new DirectoryError("Conflict", `An object with id '${id}' already exists.`);
    const group: GraphGroup = {
      id,
      displayName: data.displayName,
      description: data.description ?? null,
      mail: data.mail ?? null,
      mailEnabled: data.mailEnabled ?? false,
      mailNickname:
        data.mailNickname ?? (data.displayName.replace(/[^A-Za-z0-9]/g, "").toLowerCase() || "group"),
      securityEnabled: data.securityEnabled ?? true,
      groupTypes: data.groupTypes ?? [],
      visibility: data.visibility ?? null,
      createdDateTime: data.createdDateTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      deletedDateTime: null,
    };
    this.groups.set(id, { group, members: new OrderedIndex<MemberType>() });
    this.log("group", id, null);
    return group;
  }

  getGroup(id: string): GraphGroup | undefined {
    return this.groups.get(id.toLowerCase())?.group;
  }

  updateGroup(id: string, patch: GroupPatch): GraphGroup {
    const state = this.requireGroup(id);
    for (const key of Object.keys(patch)) {
      if (!GROUP_SCHEMA_KEYS.has(key))
        throw new DirectoryError("Invalid", `Property '${key}' cannot be updated.`);
    }
    const data = parseOrThrow(groupPatchSchema, patch);
    const changed: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined && !sameValue((state.group as unknown as Record<string, unknown>)[key], value))
        changed.push(key);
    }
    if (changed.length === 0) return state.group;
    const next = { ...state.group } as unknown as Record<string, unknown>;
    for (const key of changed) next[key] = (data as Record<string, unknown>)[key];
    state.group = next as unknown as GraphGroup;
    this.log("group", state.group.id, changed);
    return state.group;
  }

  renameGroup(id: string, displayName: string): GraphGroup {
    return this.updateGroup(id, { displayName });
  }

  /** Security groups are deleted permanently (only Microsoft 365 groups go to deleted items). */
  deleteGroup(id: string): void {
    const state = this.requireGroup(id);
    const groupId = state.group.id;
    for (const member of state.members.after(0)) removeFrom(this.memberOfIndex, member.key, groupId);
    for (const parentId of this.memberOfIndex.get(groupId) ?? []) {
      this.groups.get(parentId)?.members.delete(groupId);
      this.log("group", parentId, ["members"], { id: groupId, type: "group" });
    }
    this.memberOfIndex.delete(groupId);
    this.dropAssignmentsOf(groupId, true);
    this.groups.delete(groupId);
    this.log("group", groupId, null);
  }

  listGroups(): GraphGroup[] {
    return [...this.groups.values()].map((state) => state.group);
  }

  *groupsAfter(afterOrd: number): Generator<{ ord: number; group: GraphGroup }> {
    for (const entry of this.groups.after(afterOrd)) yield { ord: entry.ord, group: entry.value.group };
  }

  addMember(groupId: string, memberId: string): void {
    const state = this.requireGroup(groupId);
    const key = memberId.toLowerCase();
    const type: MemberType | undefined = this.users.has(key)
      ? "user"
      : this.groups.has(key)
        ? "group"
        : undefined;
    if (!type || (type === "user" && this.users.get(key)!.deletedDateTime)) {
      throw new DirectoryError(
        "NotFound",
        `Resource '${memberId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    if (key === state.group.id) throw new DirectoryError("Invalid", "A group cannot be a member of itself.");
    if (state.members.has(key)) {
      throw new DirectoryError(
        "Conflict",
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    }
    state.members.set(key, type);
    const parents = this.memberOfIndex.get(key);
    if (parents) parents.push(state.group.id);
    else this.memberOfIndex.set(key, [state.group.id]);
    this.log("group", state.group.id, ["members"], { id: key, type });
  }

  removeMember(groupId: string, memberId: string): void {
    const state = this.requireGroup(groupId);
    const key = memberId.toLowerCase();
    const type = state.members.get(key);
    if (!type)
      throw new DirectoryError(
        "NotFound",
        `Resource '${memberId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    state.members.delete(key);
    removeFrom(this.memberOfIndex, key, state.group.id);
    this.log("group", state.group.id, ["members"], { id: key, type });
  }

  /** Direct members as Graph lists them: soft-deleted users are left out. */
  *membersAfter(groupId: string, afterOrd: number): Generator<{ ord: number; member: MemberRef }> {
    const state = this.requireGroup(groupId);
    for (const entry of state.members.after(afterOrd)) {
      const member: MemberRef = { id: entry.key, type: entry.value };
      if (this.isVisibleMember(member)) yield { ord: entry.ord, member };
    }
  }

  listMembers(groupId: string): MemberRef[] {
    return [...this.membersAfter(groupId, 0)].map((entry) => entry.member);
  }

  isMember(groupId: string, memberId: string): boolean {
    const key = memberId.toLowerCase();
    const type = this.groups.get(groupId.toLowerCase())?.members.get(key);
    return type !== undefined && this.isVisibleMember({ id: key, type });
  }

  /** Groups listing the object directly (not transitively). */
  memberOf(memberId: string): string[] {
    return [...(this.memberOfIndex.get(memberId.toLowerCase()) ?? [])];
  }

  // ---------- app role assignments ----------

  assign(principalId: string, appRoleId: string): AppRoleAssignmentRecord {
    const key = principalId.toLowerCase();
    const roleId = appRoleId.toLowerCase();
    const principalType: PrincipalType | undefined = this.getUser(key)
      ? "User"
      : this.groups.has(key)
        ? "Group"
        : undefined;
    if (!principalType) {
      throw new DirectoryError(
        "NotFound",
        `Resource '${principalId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    if (
      roleId !== DEFAULT_ACCESS_ROLE_ID &&
      !this.servicePrincipal.appRoles.some((role) => role.id === roleId)
    ) {
      throw new DirectoryError(
        "Invalid",
        `Permission entry '${appRoleId}' does not exist on the resource service principal.`,
      );
    }
    for (const existingId of this.assignmentsByPrincipal.get(key) ?? []) {
      if (this.assignments.get(existingId)?.appRoleId === roleId) {
        throw new DirectoryError("Conflict", "Permission being assigned already exists on the object");
      }
    }
    const record: AppRoleAssignmentRecord = {
      id: assignmentId(key, roleId),
      appRoleId: roleId,
      principalId: key,
      principalType,
      resourceId: this.servicePrincipal.id,
      createdDateTime: new Date().toISOString(),
    };
    this.assignments.set(record.id, record);
    let set = this.assignmentsByPrincipal.get(key);
    if (!set) this.assignmentsByPrincipal.set(key, (set = new Set()));
    set.add(record.id);
    this.log("assignment", record.id, null);
    return record;
  }

  /** Removes the principal's assignments to Dialpad (all of them, or only the given role); returns how many. */
  unassign(principalId: string, appRoleId?: string): number {
    const key = principalId.toLowerCase();
    const ids = this.assignmentsByPrincipal.get(key);
    if (!ids || ids.size === 0) {
      throw new DirectoryError("NotFound", `No app role assignment exists for principal '${principalId}'.`);
    }
    // A soft-deleted user's assignments were already reported removed when it went to deleted items.
    const visible = !this.getDeletedUser(key);
    let removed = 0;
    for (const id of [...ids]) {
      if (appRoleId && this.assignments.get(id)?.appRoleId !== appRoleId.toLowerCase()) continue;
      this.assignments.delete(id);
      ids.delete(id);
      if (visible) this.log("assignment", id, null);
      removed++;
    }
    if (ids.size === 0) this.assignmentsByPrincipal.delete(key);
    if (removed === 0)
      throw new DirectoryError(
        "NotFound",
        `Principal '${principalId}' has no assignment of role '${appRoleId}'.`,
      );
    return removed;
  }

  getAssignment(id: string): AppRoleAssignmentRecord | undefined {
    return this.assignments.get(id);
  }

  /** The assignment as Graph shows it: undefined once removed or while its user is in deleted items. */
  getVisibleAssignment(id: string): AppRoleAssignmentRecord | undefined {
    const record = this.assignments.get(id);
    if (!record) return undefined;
    return record.principalType === "User" && !this.getUser(record.principalId) ? undefined : record;
  }

  /** Assignments of active principals, in the order they were made. */
  *assignmentsAfter(afterOrd: number): Generator<{ ord: number; assignment: AppRoleAssignmentRecord }> {
    for (const entry of this.assignments.after(afterOrd)) {
      if (entry.value.principalType === "User" && !this.getUser(entry.value.principalId)) continue;
      yield { ord: entry.ord, assignment: entry.value };
    }
  }

  listAssignments(): AppRoleAssignmentRecord[] {
    return [...this.assignmentsAfter(0)].map((entry) => entry.assignment);
  }

  assignmentsOf(principalId: string): AppRoleAssignmentRecord[] {
    const key = principalId.toLowerCase();
    if (this.getDeletedUser(key)) return [];
    return [...(this.assignmentsByPrincipal.get(key) ?? [])].flatMap((id) => {
      const record = this.assignments.get(id);
      return record ? [record] : [];
    });
  }

  principalDisplayName(principalId: string): string | null {
    const user = this.users.get(principalId);
    if (user) return user.displayName;
    return this.groups.get(principalId)?.group.displayName ?? null;
  }

  // ---------- change tracking ----------

  /**
   * Aggregates the change log over (fromSeq, toSeq] for one kind of object, ordered by each
   * object's last change. The log is append-only, so the same window always gives the same answer.
   */
  changesBetween(kind: ChangeKind, fromSeq: number, toSeq: number): ChangeSummary[] {
    let lo = 0;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changes[mid]!.seq <= fromSeq) lo = mid + 1;
      else hi = mid;
    }
    const byId = new Map<string, ChangeSummary>();
    for (let i = lo; i < this.changes.length; i++) {
      const entry = this.changes[i]!;
      if (entry.seq > toSeq) break;
      if (entry.kind !== kind) continue;
      let summary = byId.get(entry.id);
      if (summary) byId.delete(entry.id);
      else summary = { id: entry.id, whole: false, props: new Set(), members: new Map() };
      byId.set(entry.id, summary);
      if (entry.props === null) summary.whole = true;
      else for (const prop of entry.props) summary.props.add(prop);
      if (entry.member) summary.members.set(entry.member.id, entry.member.type);
    }
    return [...byId.values()];
  }

  /** The first sequence number still in the log; older delta tokens cannot be answered. */
  get oldestTrackedSeq(): number {
    return this.changes[0]?.seq ?? this.seq;
  }

  // ---------- internals ----------

  private findUser(idOrUpn: string): GraphUser | undefined {
    const key = idOrUpn.toLowerCase();
    const byId = this.users.get(key);
    if (byId) return byId;
    const id = this.upnIndex.get(key);
    return id ? this.users.get(id) : undefined;
  }

  private requireActiveUser(id: string): GraphUser {
    const user = this.getUser(id);
    if (!user)
      throw new DirectoryError(
        "NotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return user;
  }

  private requireGroup(id: string): GroupState {
    const state = this.groups.get(id.toLowerCase());
    if (!state)
      throw new DirectoryError(
        "NotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return state;
  }

  private isVisibleMember(member: MemberRef): boolean {
    return member.type === "group" ? this.groups.has(member.id) : this.getUser(member.id) !== undefined;
  }

  private dropAssignmentsOf(principalId: string, report: boolean): void {
    for (const id of this.assignmentsByPrincipal.get(principalId) ?? []) {
      this.assignments.delete(id);
      if (report) this.log("assignment", id, null);
    }
    this.assignmentsByPrincipal.delete(principalId);
  }

  private logAssignmentsOf(principalId: string): void {
    for (const id of this.assignmentsByPrincipal.get(principalId) ?? []) this.log("assignment", id, null);
  }

  private log(kind: ChangeKind, id: string, props: readonly string[] | null, member?: MemberRef): void {
    this.seq++;
    if (!this.tracking) return;
    const entry: ChangeEntry = { seq: this.seq, kind, id, props };
    if (member) entry.member = member;
    this.changes.push(entry);
  }
}

function removeFrom(index: Map<string, string[]>, key: string, value: string): void {
  const list = index.get(key);
  if (!list) return;
  const at = list.indexOf(value);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) index.delete(key);
}

/**
 * Graph's assignment ids are 43-character base64url strings whose first 16 bytes are the
 * principal's object id; here the other 16 are the role id, so the id is stable per (principal, role).
 */
function assignmentId(principalId: string, appRoleId: string): string {
  return Buffer.from(principalId.replace(/-/g, "") + appRoleId.replace(/-/g, ""), "hex").toString(
    "base64url",
  );
}

function createDialpadServicePrincipal(): ServicePrincipal {
  return {
    id: DIALPAD_SERVICE_PRINCIPAL_ID,
    appId: DIALPAD_APP_ID,
    appDisplayName: "Dialpad",
    displayName: "Dialpad",
    accountEnabled: true,
    appRoleAssignmentRequired: true,
    servicePrincipalType: "Application",
    servicePrincipalNames: [DIALPAD_APP_ID],
    tags: [
      "WindowsAzureActiveDirectoryIntegratedApp",
      "WindowsAzureActiveDirectoryGalleryApplicationNonPrimaryV1",
    ],
    appRoles: [
      {
        id: DIALPAD_ADMIN_ROLE_ID,
        allowedMemberTypes: ["User"],
        description: "Dialpad company administrator",
        displayName: "Admin",
        isEnabled: true,
        origin: "Application",
        value: "Admin",
      },
      {
        id: DIALPAD_USER_ROLE_ID,
        allowedMemberTypes: ["User"],
        description: "Dialpad user",
        displayName: "User",
        isEnabled: true,
        origin: "Application",
        value: "User",
      },
    ],
    createdDateTime: "2024-01-02T09:00:00Z",
    deletedDateTime: null,
  };
}
