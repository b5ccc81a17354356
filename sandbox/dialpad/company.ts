import { badRequest, ScimError } from "./errors";
import { conjuncts, describe, matches, parseFilter, type Filter } from "./filter";
import { clone, findKey, getCI, isObject, type Json, type JsonObject } from "./json";
import { applyOperation, parsePatchBody } from "./patch";
import { includes, type Projection } from "./projection";
import { LICENSE_TYPES, MAX_RESULTS, type LicenseType } from "./schemas";
import { CORE_GROUP, CORE_USER, DIALPAD_USER, ENTERPRISE_USER } from "./urns";

export const DEFAULT_OFFICES = ["San Francisco", "New York", "London", "Vancouver"];
export const DEFAULT_LICENSE: LicenseType = "Dialpad_Ai Voice";

export interface DialpadOffice {
  readonly id: string;
  readonly name: string;
  /** ISO 3166-1 alpha-2, when the emulator knows where the office is. */
  readonly country?: string;
  /** E.164 prefix (country code + area code) of the numbers Dialpad assigns in this office. */
  readonly numberPrefix: string;
}

export interface DialpadUser {
  readonly id: string;
  /** The attributes as the client sent them, minus read-only ones (id, meta, groups, the Dialpad number…). */
  attributes: JsonObject;
  readonly officeId: string;
  licenseType: LicenseType;
  /** The Dialpad-managed DID, absent for Dialpad_Support (contact-center) users. */
  readonly dialpadNumber?: string;
  readonly created: Date;
  lastModified: Date;
  version: number;
}

export interface DialpadGroup {
  readonly id: string;
  readonly displayName: string;
  externalId?: string;
  /** User ids in the order they were added. */
  members: Set<string>;
  readonly created: Date;
  lastModified: Date;
  version: number;
}

export interface ListResult<T> {
  totalResults: number;
  startIndex: number;
  resources: T[];
}

export interface ListQuery {
  filter?: string | null;
  startIndex?: number;
  count?: number;
}

/** "created": insertion order (stable); "lastModified": order of last change, as some servers list. */
export type ListOrder = "created" | "lastModified";

/** Everything needed to rebuild a company's users and groups; see state-file.ts for the file format. */
export interface CompanyState {
  offices: string[];
  userSeq: number;
  groupSeq: number;
  numbersUsed: Record<string, number>;
  users: {
    id: string;
    attributes: JsonObject;
    officeId: string;
    licenseType: LicenseType;
    dialpadNumber?: string;
    created: string;
    lastModified: string;
    version: number;
  }[];
  groups: {
    id: string;
    displayName: string;
    externalId?: string;
    members: string[];
    created: string;
    lastModified: string;
    version: number;
  }[];
}

export interface CompanyOptions {
  offices?: string[];
  now?: () => Date;
  /** Tenant URL used in meta.location; the server sets it once it knows its port. */
  baseUrl?: string;
}

/** What the emulator knows about the default office names: country and a fictitious-range number plan. */
const KNOWN_OFFICES: Record<string, { country: string; numberPrefix: string }> = {
  "san francisco": { country: "US", numberPrefix: "+1415" },
  "new york": { country: "US", numberPrefix: "+1212" },
  london: { country: "GB", numberPrefix: "+4420" },
  vancouver: { country: "CA", numberPrefix: "+1604" },
};

const COUNTRY_ALIASES: Record<string, string> = {
  usa: "US",
  "united states": "US",
  "united states of america": "US",
  uk: "GB",
  "united kingdom": "GB",
  "great britain": "GB",
  england: "GB",
  canada: "CA",
};

function normaliseCountry(raw: string): string | undefined {
  const lower = raw.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(lower)) return lower.toUpperCase();
  return COUNTRY_ALIASES[lower];
}

// Ids are numeric strings like Dialpad's own; offsets keep users, groups and offices apart and stay
// below Number.MAX_SAFE_INTEGER so clients that parse them as numbers do not lose digits.
const USER_ID_BASE = 5_100_000_000_000_000;
const GROUP_ID_BASE = 6_100_000_000_000_000;
const OFFICE_ID_BASE = 4_100_000_000_000_000;

/** RFC 7643: ids and externalId compare case-exactly; userName, emails, displayName do not. */
const CASE_EXACT = new Set(["id", "externalid", "members.value", "manager.value"]);
export const caseExact = (name: string): boolean => CASE_EXACT.has(name);

const READ_ONLY_USER_ATTRIBUTES = new Set([
  "id",
  "meta",
  "schemas",
  "groups",
  "password",
  DIALPAD_USER.toLowerCase(),
]);

type IndexMap = Map<string, Set<string>>;

function addTo(index: IndexMap, key: string, id: string): void {
  const set = index.get(key);
  if (set) set.add(id);
  else index.set(key, new Set([id]));
}

function removeFrom(index: IndexMap, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}

/**
 * One Dialpad company: its offices, users and groups, with the indexes that keep Entra's
 * `userName eq` / `externalId eq` lookups O(1) at 100,000 users. Every mutating method validates
 * fully before changing anything, so a rejected request leaves the state untouched.
 */
export class DialpadCompany {
  readonly offices: readonly DialpadOffice[];
  baseUrl: string;
  /** Order of unfiltered listings; see ListOrder. */
  listOrder: ListOrder = "created";
  private readonly now: () => Date;

  private readonly usersById = new Map<string, DialpadUser>();
  private readonly groupsById = new Map<string, DialpadGroup>();
  private readonly userByUserName = new Map<string, string>();
  private readonly usersByExternalId: IndexMap = new Map();
  private readonly usersByEmail: IndexMap = new Map();
  private readonly groupByName = new Map<string, string>();
  private readonly groupsByExternalId: IndexMap = new Map();
  private readonly groupsOfUser: IndexMap = new Map();
  private readonly numbersUsed = new Map<string, number>();
  private userSeq = 0;
  private groupSeq = 0;
  private readonly changeListeners = new Set<() => void>();

  constructor(options: CompanyOptions = {}) {
    const names = options.offices && options.offices.length > 0 ? options.offices : DEFAULT_OFFICES;
    if (new Set(names).size !== names.length) throw new Error("Office names must be unique");
    const main = KNOWN_OFFICES[names[0]?.toLowerCase() ?? ""];
    this.offices = names.map((name, i) => {
      const known = KNOWN_OFFICES[name.toLowerCase()];
      return {
        id: String(OFFICE_ID_BASE + i + 1),
        name,
        ...(known ? { country: known.country } : {}),
        // Offices the emulator cannot place get the main office's area code, as Dialpad falls back
        // to the company's area code when an office has none.
        numberPrefix: known?.numberPrefix ?? main?.numberPrefix ?? "+1415",
      };
    });
    this.now = options.now ?? (() => new Date());
    this.baseUrl = options.baseUrl ?? "https://dialpad.com/scim";
  }

  get mainOffice(): DialpadOffice {
    return this.offices[0] as DialpadOffice;
  }

  get users(): ReadonlyMap<string, DialpadUser> {
    return this.usersById;
  }

  get groups(): ReadonlyMap<string, DialpadGroup> {
    return this.groupsById;
  }

  /** Called after every change to users or groups (and after reset/restore), e.g. to save the state. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  /** The users' attribute objects are shared, not copied (100,000 copies cost seconds): serialise it at once. */
  exportState(): CompanyState {
    return {
      offices: this.offices.map((o) => o.name),
      userSeq: this.userSeq,
      groupSeq: this.groupSeq,
      numbersUsed: Object.fromEntries(this.numbersUsed),
      users: [...this.usersById.values()].map((u) => ({
        id: u.id,
        attributes: u.attributes,
        officeId: u.officeId,
        licenseType: u.licenseType,
        ...(u.dialpadNumber ? { dialpadNumber: u.dialpadNumber } : {}),
        created: u.created.toISOString(),
        lastModified: u.lastModified.toISOString(),
        version: u.version,
      })),
      groups: [...this.groupsById.values()].map((g) => ({
        id: g.id,
        displayName: g.displayName,
        ...(g.externalId !== undefined ? { externalId: g.externalId } : {}),
        members: [...g.members],
        created: g.created.toISOString(),
        lastModified: g.lastModified.toISOString(),
        version: g.version,
      })),
    };
  }

  /**
   * Replaces users and groups with a saved state. The state is checked against this company first
   * (offices, unique user names, members that exist), so a state that does not fit changes nothing.
   * The company takes the state's attribute objects over; the caller must not change them afterwards.
   */
  importState(state: CompanyState): void {
    const offices = this.offices.map((o) => o.name);
    if (state.offices.join("\n") !== offices.join("\n")) {
      throw new Error(`it was saved with the offices ${state.offices.join(", ")}, not ${offices.join(", ")}`);
    }
    const officeIds = new Set(this.offices.map((o) => o.id));
    const names = new Set<string>();
    const userIds = new Set<string>();
    for (const user of state.users) {
      if (!officeIds.has(user.officeId)) throw new Error(`user ${user.id} is in an unknown office`);
      const userName = user.attributes.userName;
      if (typeof userName !== "string") throw new Error(`user ${user.id} has no userName`);
      if (names.has(userName.toLowerCase())) throw new Error(`userName ${userName} appears twice`);
      names.add(userName.toLowerCase());
      userIds.add(user.id);
    }
    for (const group of state.groups) {
      const missing = group.members.find((id) => !userIds.has(id));
      if (missing) throw new Error(`group ${group.displayName} lists unknown user ${missing}`);
    }
    this.resetQuietly();
    for (const saved of state.users) {
      const user: DialpadUser = {
        id: saved.id,
        attributes: saved.attributes,
        officeId: saved.officeId,
        licenseType: saved.licenseType,
        ...(saved.dialpadNumber ? { dialpadNumber: saved.dialpadNumber } : {}),
        created: new Date(saved.created),
        lastModified: new Date(saved.lastModified),
        version: saved.version,
      };
      this.usersById.set(user.id, user);
      this.indexUser(user);
    }
    for (const saved of state.groups) {
      const group: DialpadGroup = {
        id: saved.id,
        displayName: saved.displayName,
        ...(saved.externalId !== undefined ? { externalId: saved.externalId } : {}),
        members: new Set(saved.members),
        created: new Date(saved.created),
        lastModified: new Date(saved.lastModified),
        version: saved.version,
      };
      this.groupsById.set(group.id, group);
      this.indexGroup(group);
      for (const userId of group.members) addTo(this.groupsOfUser, userId, group.id);
    }
    for (const [prefix, used] of Object.entries(state.numbersUsed)) this.numbersUsed.set(prefix, used);
    this.userSeq = state.userSeq;
    this.groupSeq = state.groupSeq;
    this.changed();
  }

  /** Back to an empty company with the same offices. */
  reset(): void {
    this.resetQuietly();
    this.changed();
  }

  private resetQuietly(): void {
    for (const map of [
      this.usersById,
      this.groupsById,
      this.userByUserName,
      this.usersByExternalId,
      this.usersByEmail,
      this.groupByName,
      this.groupsByExternalId,
      this.groupsOfUser,
      this.numbersUsed,
    ]) {
      map.clear();
    }
    this.userSeq = 0;
    this.groupSeq = 0;
  }

  office(id: string): DialpadOffice {
    const office = this.offices.find((o) => o.id === id);
    if (!office) throw new Error(`Unknown office ${id}`);
    return office;
  }

  isActive(user: DialpadUser): boolean {
    return user.attributes.active !== false;
  }

  /** Active users hold a seat of their licence type; suspension frees it. */
  seats(): { used: number; byLicense: Record<LicenseType, number> } {
    const byLicense = Object.fromEntries(LICENSE_TYPES.map((l) => [l, 0])) as Record<LicenseType, number>;
    let used = 0;
    for (const user of this.usersById.values()) {
      if (!this.isActive(user)) continue;
      used++;
      byLicense[user.licenseType]++;
    }
    return { used, byLicense };
  }

  summary() {
    const perOffice = new Map<string, number>();
    let suspended = 0;
    for (const user of this.usersById.values()) {
      perOffice.set(user.officeId, (perOffice.get(user.officeId) ?? 0) + 1);
      if (!this.isActive(user)) suspended++;
    }
    return {
      users: this.usersById.size,
      activeUsers: this.usersById.size - suspended,
      suspendedUsers: suspended,
      groups: this.groupsById.size,
      offices: this.offices.map((o) => ({
        ...o,
        users: perOffice.get(o.id) ?? 0,
        main: o === this.mainOffice,
      })),
      seats: this.seats(),
    };
  }

  // ---------------------------------------------------------------- users

  getUser(id: string): DialpadUser {
    const user = this.usersById.get(id);
    if (!user) throw new ScimError(404, `User ${id} not found`);
    return user;
  }

  findUserByUserName(userName: string): DialpadUser | undefined {
    const id = this.userByUserName.get(userName.toLowerCase());
    return id === undefined ? undefined : this.usersById.get(id);
  }

  createUser(body: unknown): DialpadUser {
    if (!isObject(body)) throw badRequest("invalidSyntax", "The request body must be a JSON object");
    requireSchema(body, CORE_USER);
    const attributes = sanitiseUser(body);
    if (getCI(attributes, "active") === undefined) attributes.active = true;
    const licenseType = validateUser(attributes);
    const userName = attributes.userName as string;
    this.assertUserNameFree(userName);

    const office = this.placeOffice(attributes);
    const now = this.now();
    const id = String(USER_ID_BASE + ++this.userSeq);
    const dialpadNumber = licenseType === "Dialpad_Support" ? undefined : this.allocateNumber(office);
    const user: DialpadUser = {
      id,
      attributes,
      officeId: office.id,
      licenseType,
      ...(dialpadNumber ? { dialpadNumber } : {}),
      created: now,
      lastModified: now,
      version: 1,
    };
    this.usersById.set(id, user);
    this.indexUser(user);
    this.changed();
    return user;
  }

  replaceUser(id: string, body: unknown, ifMatch?: string): DialpadUser {
    const user = this.getUser(id);
    checkIfMatch(ifMatch, user.version);
    if (!isObject(body)) throw badRequest("invalidSyntax", "The request body must be a JSON object");
    requireSchema(body, CORE_USER);
    const next = sanitiseUser(body, user.dialpadNumber);
    // A PUT without `active` keeps the user's state: suspending or reactivating should be explicit.
    if (getCI(next, "active") === undefined) next.active = this.isActive(user);
    return this.commitUser(user, next);
  }

  patchUser(id: string, body: unknown, ifMatch?: string): DialpadUser {
    const user = this.getUser(id);
    checkIfMatch(ifMatch, user.version);
    const operations = parsePatchBody(body);
    // Work on the client-visible shape, so a filter on the Dialpad number finds it; the result is then
    // sanitised, which drops any change to that number (Dialpad manages it).
    const working = clone(user.attributes);
    if (user.dialpadNumber) {
      const numbers = getCI(working, "phoneNumbers");
      working[findKey(working, "phoneNumbers") ?? "phoneNumbers"] = [
        ...(Array.isArray(numbers) ? numbers : []),
        dialpadEntry(user.dialpadNumber),
      ];
    }
    for (const operation of operations) {
      const path = operation.path;
      if (path && (path.schema === DIALPAD_USER || READ_ONLY_USER_ATTRIBUTES.has(path.attr.toLowerCase()))) {
        if (path.attr.toLowerCase() !== "schemas") {
          throw badRequest("mutability", `'${operation.rawPath}' is read-only`);
        }
        continue;
      }
      applyOperation(working, operation.op, path, operation.value, caseExact);
    }
    const next = sanitiseUser(working, user.dialpadNumber);
    if (getCI(next, "active") === undefined) next.active = this.isActive(user);
    return this.commitUser(user, next);
  }

  deleteUser(id: string, ifMatch?: string): void {
    const user = this.getUser(id);
    checkIfMatch(ifMatch, user.version);
    this.unindexUser(user);
    this.usersById.delete(id);
    // Dialpad drops a deleted user from every group it was in.
    const now = this.now();
    for (const groupId of this.groupsOfUser.get(id) ?? []) {
      const group = this.groupsById.get(groupId);
      if (!group) continue;
      group.members.delete(id);
      group.lastModified = now;
      group.version++;
    }
    this.groupsOfUser.delete(id);
    this.changed();
  }

  private inListOrder<T extends { lastModified: Date }>(resources: Map<string, T>): Iterable<T> {
    // A stable sort: equal times keep creation order.
    return this.listOrder === "lastModified"
      ? [...resources.values()].sort(byLastModified)
      : resources.values();
  }

  listUsers(query: ListQuery): ListResult<DialpadUser> {
    let candidates: Iterable<DialpadUser>;
    let total: number;
    if (query.filter) {
      const filter = parseFilter(query.filter);
      const found = this.findUsers(filter);
      candidates = found;
      total = found.length;
    } else {
      candidates = this.inListOrder(this.usersById);
      total = this.usersById.size;
    }
    return page(candidates, total, query);
  }

  private findUsers(filter: Filter): DialpadUser[] {
    let ids: Iterable<string> | undefined;
    for (const clause of conjuncts(filter)) {
      const { path, value } = clause;
      const attr = path.attr.toLowerCase();
      const emailPath = attr === "emails" && (path.sub === undefined || path.sub.toLowerCase() === "value");
      const simple = !path.schema && !path.sub && !path.filter;
      if (
        !(simple && (attr === "username" || attr === "externalid" || attr === "id")) &&
        !(emailPath && !path.schema)
      ) {
        throw badRequest(
          "invalidFilter",
          `Filtering on '${describe(path)}' is not supported; use userName, externalId, emails.value or id`,
        );
      }
      if (ids !== undefined || typeof value !== "string") continue;
      if (attr === "username") ids = lookupOne(this.userByUserName, value.toLowerCase());
      else if (attr === "externalid") ids = this.usersByExternalId.get(value) ?? [];
      else if (attr === "id") ids = this.usersById.has(value) ? [value] : [];
      else ids = this.usersByEmail.get(value.toLowerCase()) ?? [];
    }
    const out: DialpadUser[] = [];
    for (const id of ids ?? []) {
      const user = this.usersById.get(id);
      if (user && matches(filter, { ...user.attributes, id: user.id }, caseExact)) out.push(user);
    }
    return out;
  }

  toScimUser(user: DialpadUser, projection: Projection = {}): JsonObject {
    const office = this.office(user.officeId);
    const attrs = clone(user.attributes);
    if (user.dialpadNumber) {
      const key = findKey(attrs, "phoneNumbers") ?? "phoneNumbers";
      const numbers = attrs[key];
      attrs[key] = [...(Array.isArray(numbers) ? numbers : []), dialpadEntry(user.dialpadNumber)];
    }
    const hasEnterprise = findKey(attrs, ENTERPRISE_USER) !== undefined;
    const out: JsonObject = {
      schemas: [CORE_USER, ...(hasEnterprise ? [ENTERPRISE_USER] : []), DIALPAD_USER],
      id: user.id,
      ...attrs,
    };
    if (includes(projection, "groups")) {
      const groups = [...(this.groupsOfUser.get(user.id) ?? [])].flatMap((gid) => {
        const g = this.groupsById.get(gid);
        return g
          ? [{ value: g.id, $ref: `${this.baseUrl}/Groups/${g.id}`, display: g.displayName, type: "direct" }]
          : [];
      });
      if (groups.length > 0) out.groups = groups;
    }
    out[DIALPAD_USER] = {
      officeId: office.id,
      officeName: office.name,
      licenseType: user.licenseType,
      state: this.isActive(user) ? "active" : "suspended",
    };
    out.meta = {
      resourceType: "User",
      created: user.created.toISOString(),
      lastModified: user.lastModified.toISOString(),
      location: `${this.baseUrl}/Users/${user.id}`,
      version: etag(user.version),
    };
    return out;
  }

  private commitUser(user: DialpadUser, next: JsonObject): DialpadUser {
    const licenseType = validateUser(next);
    const userName = next.userName as string;
    const owner = this.userByUserName.get(userName.toLowerCase());
    if (owner !== undefined && owner !== user.id) throw uniqueness(`userName ${userName}`);
    this.unindexUser(user);
    user.attributes = next;
    user.licenseType = licenseType;
    user.lastModified = this.now();
    user.version++;
    this.indexUser(user);
    this.changed();
    return user;
  }

  private assertUserNameFree(userName: string): void {
    if (this.userByUserName.has(userName.toLowerCase())) throw uniqueness(`userName ${userName}`);
  }

  /**
   * Dialpad's documented order (Okta SAML/SCIM FAQ): officeName, physicalDeliveryOfficeName, then
   * department, each only when it exactly matches an office name; else an office in the user's
   * country; else the main office.
   */
  private placeOffice(attributes: JsonObject): DialpadOffice {
    const enterprise = getCI(attributes, ENTERPRISE_USER);
    for (const field of ["officeName", "physicalDeliveryOfficeName", "department"]) {
      const value = getCI(enterprise, field);
      const office = typeof value === "string" ? this.offices.find((o) => o.name === value) : undefined;
      if (office) return office;
    }
    const addresses = getCI(attributes, "addresses");
    for (const address of Array.isArray(addresses) ? addresses : []) {
      const country = getCI(address, "country");
      const code = typeof country === "string" ? normaliseCountry(country) : undefined;
      const office = code ? this.offices.find((o) => o.country === code) : undefined;
      if (office) return office;
    }
    return this.mainOffice;
  }

  private allocateNumber(office: DialpadOffice): string {
    const used = this.numbersUsed.get(office.numberPrefix) ?? 0;
    this.numbersUsed.set(office.numberPrefix, used + 1);
    // North American numbers start at 555-0000 (the fictitious exchange); London at 7946 0000 (Ofcom's drama range).
    if (office.numberPrefix.startsWith("+44")) return `${office.numberPrefix}${79_460_000 + used}`;
    return `${office.numberPrefix}${5_550_000 + used}`;
  }

  private indexUser(user: DialpadUser): void {
    const { userName, externalId } = user.attributes;
    if (typeof userName === "string") this.userByUserName.set(userName.toLowerCase(), user.id);
    if (typeof externalId === "string") addTo(this.usersByExternalId, externalId, user.id);
    for (const email of emailValues(user.attributes)) addTo(this.usersByEmail, email, user.id);
  }

  private unindexUser(user: DialpadUser): void {
    const { userName, externalId } = user.attributes;
    if (typeof userName === "string") this.userByUserName.delete(userName.toLowerCase());
    if (typeof externalId === "string") removeFrom(this.usersByExternalId, externalId, user.id);
    for (const email of emailValues(user.attributes)) removeFrom(this.usersByEmail, email, user.id);
  }

  // ---------------------------------------------------------------- groups

  getGroup(id: string): DialpadGroup {
    const group = this.groupsById.get(id);
    if (!group) throw new ScimError(404, `Group ${id} not found`);
    return group;
  }

  createGroup(body: unknown): DialpadGroup {
    if (!isObject(body)) throw badRequest("invalidSyntax", "The request body must be a JSON object");
    requireSchema(body, CORE_GROUP);
    const displayName = getCI(body, "displayName");
    if (typeof displayName !== "string" || displayName.trim() === "") {
      throw badRequest("invalidValue", "displayName is required");
    }
    if (this.groupByName.has(displayName.toLowerCase())) throw uniqueness(`group displayName ${displayName}`);
    const externalId = optionalString(getCI(body, "externalId"), "externalId");
    const members = this.memberIds(getCI(body, "members"));
    const now = this.now();
    const group: DialpadGroup = {
      id: String(GROUP_ID_BASE + ++this.groupSeq),
      displayName,
      ...(externalId !== undefined ? { externalId } : {}),
      members: new Set(members),
      created: now,
      lastModified: now,
      version: 1,
    };
    this.groupsById.set(group.id, group);
    this.indexGroup(group);
    for (const userId of group.members) addTo(this.groupsOfUser, userId, group.id);
    this.changed();
    return group;
  }

  replaceGroup(id: string, body: unknown, ifMatch?: string): DialpadGroup {
    const group = this.getGroup(id);
    checkIfMatch(ifMatch, group.version);
    if (!isObject(body)) throw badRequest("invalidSyntax", "The request body must be a JSON object");
    requireSchema(body, CORE_GROUP);
    const displayName = getCI(body, "displayName");
    if (typeof displayName !== "string") throw badRequest("invalidValue", "displayName is required");
    assertNoRename(group, displayName);
    const externalId = optionalString(getCI(body, "externalId"), "externalId");
    const members = this.memberIds(getCI(body, "members"));
    this.commitGroup(group, externalId, new Set(members));
    return group;
  }

  /**
   * Groups accept PATCH on members, externalId and (unchanged) displayName only. Members are
   * resolved against the users before anything changes, so a bad id leaves the group as it was.
   */
  patchGroup(id: string, body: unknown, ifMatch?: string): DialpadGroup {
    const group = this.getGroup(id);
    checkIfMatch(ifMatch, group.version);
    const operations = parsePatchBody(body);
    const members = new Set(group.members);
    let externalId = group.externalId;

    const apply = (
      op: "add" | "replace" | "remove",
      attr: string,
      value: Json | undefined,
      filter?: Filter,
    ) => {
      switch (attr.toLowerCase()) {
        case "displayname":
          if (op === "remove") throw badRequest("mutability", "displayName is required");
          if (typeof value !== "string") throw badRequest("invalidValue", "displayName must be a string");
          assertNoRename(group, value);
          return;
        case "externalid":
          externalId = op === "remove" ? undefined : optionalString(value, "externalId");
          return;
        case "members": {
          if (filter) {
            if (op !== "remove")
              throw badRequest("invalidPath", "Member value filters are only supported with 'remove'");
            for (const memberId of [...members]) {
              if (matches(filter, { value: memberId, type: "User" }, caseExact, "members."))
                members.delete(memberId);
            }
            return;
          }
          if (op === "remove") {
            if (value === undefined || value === null) members.clear();
            else for (const memberId of this.memberIds(value, false)) members.delete(memberId);
            return;
          }
          const ids = this.memberIds(value);
          if (op === "replace") members.clear();
          for (const memberId of ids) members.add(memberId);
          return;
        }
        default:
          throw badRequest("invalidPath", `Dialpad groups have no attribute '${attr}'`);
      }
    };

    for (const operation of operations) {
      const path = operation.path;
      if (!path) {
        if (!isObject(operation.value))
          throw badRequest("invalidValue", `'${operation.op}' without a path needs an object value`);
        for (const [key, value] of Object.entries(operation.value)) {
          if (key.toLowerCase() !== "schemas") apply(operation.op, stripCoreGroup(key), value);
        }
        continue;
      }
      if (path.schema || path.sub)
        throw badRequest("invalidPath", `Unsupported group path '${operation.rawPath}'`);
      apply(operation.op, path.attr, operation.value, path.filter);
    }
    this.commitGroup(group, externalId, members);
    return group;
  }

  deleteGroup(id: string, ifMatch?: string): void {
    const group = this.getGroup(id);
    checkIfMatch(ifMatch, group.version);
    this.unindexGroup(group);
    for (const userId of group.members) removeFrom(this.groupsOfUser, userId, group.id);
    this.groupsById.delete(id);
    this.changed();
  }

  listGroups(query: ListQuery): ListResult<DialpadGroup> {
    if (!query.filter) return page(this.inListOrder(this.groupsById), this.groupsById.size, query);
    const filter = parseFilter(query.filter);
    let ids: Iterable<string> | undefined;
    for (const { path, value } of conjuncts(filter)) {
      const attr = path.attr.toLowerCase();
      if (path.schema || path.sub || path.filter || !["displayname", "externalid", "id"].includes(attr)) {
        throw badRequest(
          "invalidFilter",
          `Filtering on '${describe(path)}' is not supported; use displayName, externalId or id`,
        );
      }
      if (ids !== undefined || typeof value !== "string") continue;
      if (attr === "displayname") ids = lookupOne(this.groupByName, value.toLowerCase());
      else if (attr === "externalid") ids = this.groupsByExternalId.get(value) ?? [];
      else ids = this.groupsById.has(value) ? [value] : [];
    }
    const found: DialpadGroup[] = [];
    for (const id of ids ?? []) {
      const group = this.groupsById.get(id);
      if (!group) continue;
      const view: JsonObject = { id: group.id, displayName: group.displayName };
      if (group.externalId !== undefined) view.externalId = group.externalId;
      if (matches(filter, view, caseExact)) found.push(group);
    }
    return page(found, found.length, query);
  }

  toScimGroup(group: DialpadGroup, projection: Projection = {}): JsonObject {
    const out: JsonObject = { schemas: [CORE_GROUP], id: group.id };
    if (group.externalId !== undefined) out.externalId = group.externalId;
    out.displayName = group.displayName;
    // Building 100k members only to drop them again would make Entra's excludedAttributes=members slow.
    if (includes(projection, "members")) {
      out.members = [...group.members].map((userId) => {
        const user = this.usersById.get(userId);
        return {
          value: userId,
          $ref: `${this.baseUrl}/Users/${userId}`,
          type: "User",
          display: user ? displayOf(user) : userId,
        };
      });
    }
    out.meta = {
      resourceType: "Group",
      created: group.created.toISOString(),
      lastModified: group.lastModified.toISOString(),
      location: `${this.baseUrl}/Groups/${group.id}`,
      version: etag(group.version),
    };
    return out;
  }

  groupsOf(userId: string): DialpadGroup[] {
    return [...(this.groupsOfUser.get(userId) ?? [])].flatMap((id) => this.groupsById.get(id) ?? []);
  }

  private commitGroup(group: DialpadGroup, externalId: string | undefined, members: Set<string>): void {
    this.unindexGroup(group);
    for (const userId of group.members)
      if (!members.has(userId)) removeFrom(this.groupsOfUser, userId, group.id);
    for (const userId of members) addTo(this.groupsOfUser, userId, group.id);
    if (externalId === undefined) delete group.externalId;
    else group.externalId = externalId;
    group.members = members;
    group.lastModified = this.now();
    group.version++;
    this.indexGroup(group);
    this.changed();
  }

  /** Member references `[{ value: userId }]`; every id must be an existing user unless `mustExist` is false. */
  private memberIds(value: Json | undefined, mustExist = true): string[] {
    if (value === undefined || value === null) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((member) => {
      const id = isObject(member) ? getCI(member, "value") : member;
      if (typeof id !== "string" || id === "")
        throw badRequest("invalidValue", "Each member needs a string 'value' (a user id)");
      if (mustExist && !this.usersById.has(id)) {
        throw badRequest(
          "invalidValue",
          `Member ${id} is not a Dialpad user (groups can only contain users)`,
        );
      }
      return id;
    });
  }

  private indexGroup(group: DialpadGroup): void {
    this.groupByName.set(group.displayName.toLowerCase(), group.id);
    if (group.externalId !== undefined) addTo(this.groupsByExternalId, group.externalId, group.id);
  }

  private unindexGroup(group: DialpadGroup): void {
    this.groupByName.delete(group.displayName.toLowerCase());
    if (group.externalId !== undefined) removeFrom(this.groupsByExternalId, group.externalId, group.id);
  }
}

// -------------------------------------------------------------------- helpers

export function etag(version: number): string {
  return `W/"${version}"`;
}

/** If-Match (RFC 7644 §3.14): a stale version means someone else changed the resource. */
function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(",").map((t) => t.trim());
  if (tags.includes("*") || tags.includes(etag(version))) return;
  throw new ScimError(412, "Failed to update. Resource has changed on the server.");
}

function uniqueness(what: string): ScimError {
  return new ScimError(409, `A resource with ${what} already exists`, "uniqueness");
}

function assertNoRename(group: DialpadGroup, displayName: string): void {
  if (displayName !== group.displayName) {
    throw badRequest("mutability", "Dialpad does not support group renames");
  }
}

function stripCoreGroup(key: string): string {
  const prefix = `${CORE_GROUP}:`.toLowerCase();
  return key.toLowerCase().startsWith(prefix) ? key.slice(prefix.length) : key;
}

function requireSchema(body: JsonObject, schema: string): void {
  const schemas = getCI(body, "schemas");
  if (!Array.isArray(schemas) || !schemas.includes(schema)) {
    throw badRequest("invalidSyntax", `The 'schemas' attribute must include ${schema}`);
  }
}

function optionalString(value: Json | undefined, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest("invalidValue", `${name} must be a string`);
  return value;
}

function lookupOne(index: Map<string, string>, key: string): string[] {
  const id = index.get(key);
  return id === undefined ? [] : [id];
}

function dialpadEntry(number: string): JsonObject {
  return { value: number, type: "Dialpad", primary: false };
}

function emailValues(attributes: JsonObject): string[] {
  const emails = getCI(attributes, "emails");
  if (!Array.isArray(emails)) return [];
  return emails.flatMap((e) => {
    const v = getCI(e, "value");
    return typeof v === "string" ? [v.toLowerCase()] : [];
  });
}

function displayOf(user: DialpadUser): string {
  const a = user.attributes;
  const display = getCI(a, "displayName");
  if (typeof display === "string") return display;
  const formatted = getCI(getCI(a, "name"), "formatted");
  if (typeof formatted === "string") return formatted;
  return String(a.userName);
}

/**
 * The attributes Dialpad keeps from a request: everything as sent, except read-only attributes
 * (RFC 7644 §3.3: ignored on input) and the Dialpad-managed number, which only Dialpad may set.
 */
function sanitiseUser(body: JsonObject, dialpadNumber?: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY_USER_ATTRIBUTES.has(key.toLowerCase())) continue;
    out[key] = clone(value);
  }
  const numbersKey = findKey(out, "phoneNumbers");
  if (numbersKey !== undefined && Array.isArray(out[numbersKey])) {
    const kept = (out[numbersKey] as Json[]).filter((entry) => {
      const type = getCI(entry, "type");
      const value = getCI(entry, "value");
      return (
        !(typeof type === "string" && type.toLowerCase() === "dialpad") &&
        !(dialpadNumber && value === dialpadNumber)
      );
    });
    if (kept.length > 0) out[numbersKey] = kept;
    else delete out[numbersKey];
  }
  return out;
}

/** Type checks Dialpad needs; returns the licence. Mutates only to canonicalise `active` and `manager`. */
function validateUser(attributes: JsonObject): LicenseType {
  const userNameKey = findKey(attributes, "userName");
  const userName = userNameKey === undefined ? undefined : attributes[userNameKey];
  if (typeof userName !== "string" || userName.trim() === "")
    throw badRequest("invalidValue", "userName is required");
  if (userNameKey !== "userName" && userNameKey !== undefined) {
    delete attributes[userNameKey];
    attributes.userName = userName;
  }
  // Dialpad identifies users by email address; a bare login name cannot become a Dialpad user.
  if (!/^[^@\s]+@[^@\s]+$/.test(userName)) {
    throw badRequest("invalidValue", "userName must be the user's email address");
  }

  const activeKey = findKey(attributes, "active");
  if (activeKey !== undefined) {
    const raw = attributes[activeKey];
    let active: boolean;
    // Entra sends "True"/"False" strings unless the aadOptscim062020 flag is set.
    if (typeof raw === "boolean") active = raw;
    else if (typeof raw === "string" && /^(true|false)$/i.test(raw)) active = raw.toLowerCase() === "true";
    else throw badRequest("invalidValue", "active must be a boolean");
    delete attributes[activeKey];
    attributes.active = active;
  }

  for (const name of ["externalId", "displayName", "title"]) {
    const v = getCI(attributes, name);
    if (v !== undefined && v !== null && typeof v !== "string")
      throw badRequest("invalidValue", `${name} must be a string`);
  }
  const name = getCI(attributes, "name");
  if (name !== undefined && !isObject(name)) throw badRequest("invalidValue", "name must be an object");
  for (const multi of ["emails", "phoneNumbers", "addresses", "roles"]) {
    const v = getCI(attributes, multi);
    if (v !== undefined && (!Array.isArray(v) || !v.every(isObject))) {
      throw badRequest("invalidValue", `${multi} must be an array of objects`);
    }
  }

  const enterpriseKey = findKey(attributes, ENTERPRISE_USER);
  const enterprise = enterpriseKey === undefined ? undefined : attributes[enterpriseKey];
  if (enterprise !== undefined && !isObject(enterprise))
    throw badRequest("invalidValue", `${ENTERPRISE_USER} must be an object`);
  if (isObject(enterprise)) {
    const managerKey = findKey(enterprise, "manager");
    const manager = managerKey === undefined ? undefined : enterprise[managerKey];
    // Entra adds the manager as a one-element array of references; the attribute itself is singular.
    if (managerKey !== undefined && Array.isArray(manager)) {
      if (manager.length === 0) delete enterprise[managerKey];
      else enterprise[managerKey] = manager[0] ?? null;
    } else if (managerKey !== undefined && typeof manager === "string") {
      enterprise[managerKey] = { value: manager };
    }
  }
  const license = getCI(enterprise, "licenseType");
  if (license === undefined || license === null) return DEFAULT_LICENSE;
  const match = LICENSE_TYPES.find((l) => l === license);
  if (!match) {
    throw badRequest(
      "invalidValue",
      `licenseType must be one of ${LICENSE_TYPES.map((l) => `"${l}"`).join(", ")}`,
    );
  }
  return match;
}

function byLastModified<T extends { lastModified: Date }>(a: T, b: T): number {
  return a.lastModified.getTime() - b.lastModified.getTime();
}

function page<T>(items: Iterable<T>, total: number, query: ListQuery): ListResult<T> {
  const startIndex = Math.max(1, query.startIndex ?? 1);
  const count = Math.min(MAX_RESULTS, Math.max(0, query.count ?? MAX_RESULTS));
  const resources: T[] = [];
  if (count > 0 && startIndex <= total) {
    let i = 0;
    for (const item of items) {
      i++;
      if (i < startIndex) continue;
      resources.push(item);
      if (resources.length >= count) break;
    }
  }
  return { totalResults: total, startIndex, resources };
}
