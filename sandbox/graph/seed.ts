import {
  DEFAULT_ACCESS_ROLE_ID,
  DIALPAD_ADMIN_ROLE_ID,
  DIALPAD_USER_ROLE_ID,
  Directory,
  type GraphUser,
  type UserInput,
} from "./directory";

/**
 * Deterministic sandbox tenant "contoso.example".
 *
 * A fixed cast of well-known users and groups (stable ids, whatever the seed number) covers the
 * provisioning edge cases; the remaining users are generated from a seeded PRNG so two runs with the
 * same options produce identical directories. Generation is linear in the number of users.
 */

export interface SeedOptions {
  /** Total users including the well-known ones (default 250; never fewer than the well-known cast). */
  users?: number;
  /** Total groups including the well-known ones (default 12). */
  groups?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

export const SEED_DOMAIN = "contoso.example";

/** Office names the Dialpad emulator also knows, plus ones that match no Dialpad office. */
export const DIALPAD_OFFICES = ["San Francisco", "New York", "London", "Vancouver"] as const;
export const NON_DIALPAD_OFFICES = ["Berlin", "Remote"] as const;

/** Well-known user ids. Stable across seeds so tests and docs can name them. */
export const SEED_USERS = {
  /** "Zoë Ångström": diacritics; assigned directly with the User role; London. */
  zoe: { id: "10000000-0000-4000-8000-000000000001", upn: "zoe.angstrom@contoso.example" },
  /** "José Müller": diacritics; in scope only through the assigned group "Dialpad Users"; San Francisco. */
  jose: { id: "10000000-0000-4000-8000-000000000002", upn: "jose.muller@contoso.example" },
  /** No mail attribute (mail null, no proxy addresses); assigned directly with User. */
  noMail: { id: "10000000-0000-4000-8000-000000000003", upn: "nomail.tester@contoso.example" },
  /** accountEnabled false; assigned directly with User. */
  disabled: { id: "10000000-0000-4000-8000-000000000004", upn: "dana.disabled@contoso.example" },
  /** Assigned with "Default Access" only: must be excluded from Dialpad provisioning. */
  defaultAccessOnly: { id: "10000000-0000-4000-8000-000000000005", upn: "dean.default@contoso.example" },
  /** Assigned directly with the Admin role. */
  admin: { id: "10000000-0000-4000-8000-000000000006", upn: "ada.admin@contoso.example" },
  /** Member of "Support Tier 2" only, a group nested in an assigned group: NOT in scope. */
  nestedOnly: { id: "10000000-0000-4000-8000-000000000007", upn: "nina.nested@contoso.example" },
  /** Two users with the same display name "Alex Kim", both assigned directly with User. */
  duplicateA: { id: "10000000-0000-4000-8000-000000000008", upn: "alex.kim@contoso.example" },
  duplicateB: { id: "10000000-0000-4000-8000-000000000009", upn: "alex.kim2@contoso.example" },
  /** Not assigned at all. */
  unassigned: { id: "10000000-0000-4000-8000-00000000000a", upn: "una.unassigned@contoso.example" },
  /** Assigned directly (User) and also through "Dialpad Users": must be provisioned once. */
  directAndGroup: { id: "10000000-0000-4000-8000-00000000000b", upn: "gabe.both@contoso.example" },
  /** Office "Berlin", which matches no Dialpad office; assigned directly with User. */
  unknownOffice: { id: "10000000-0000-4000-8000-00000000000c", upn: "bertha.berlin@contoso.example" },
  /** "Seán O'Brien": an apostrophe that must be doubled in OData and SCIM filters; assigned directly. */
  apostrophe: { id: "10000000-0000-4000-8000-00000000000d", upn: "sean.obrien@contoso.example" },
  /** A B2B guest whose UPN contains "#EXT#" (needs URL encoding); assigned directly with User. */
  guest: { id: "10000000-0000-4000-8000-00000000000e", upn: "pat_fabrikam.example#EXT#@contoso.example" },
  /** mail differs from the UPN (renamed mailbox); assigned directly with User. */
  mailDiffers: { id: "10000000-0000-4000-8000-00000000000f", upn: "mo.alias@contoso.example" },
  /** In deleted items (soft-deleted) at seed time; was assigned directly with User. */
  softDeleted: { id: "10000000-0000-4000-8000-000000000010", upn: "fred.former@contoso.example" },
  /** Member of the group assigned with Default Access only: NOT in scope. */
  defaultAccessGroupMember: {
    id: "10000000-0000-4000-8000-000000000011",
    upn: "gwen.defaultgroup@contoso.example",
  },
} as const;

export const SEED_GROUPS = {
  /** Assigned to Dialpad with the User role. */
  dialpadUsers: { id: "20000000-0000-4000-8000-000000000001", displayName: "Dialpad Users" },
  /** Assigned to Dialpad with the Admin role. */
  dialpadAdmins: { id: "20000000-0000-4000-8000-000000000002", displayName: "Dialpad Admins" },
  /** Assigned with the User role; contains the nested group "Support Tier 2". */
  dialpadSupport: { id: "20000000-0000-4000-8000-000000000003", displayName: "Dialpad Support" },
  /** Not assigned; a member of "Dialpad Support". Its members are not in scope. */
  supportTier2: { id: "20000000-0000-4000-8000-000000000004", displayName: "Support Tier 2" },
  /** Assigned with Default Access only: its members are not in scope. */
  defaultAccessGroup: { id: "20000000-0000-4000-8000-000000000005", displayName: "Dialpad Default Access" },
  sales: { id: "20000000-0000-4000-8000-000000000006", displayName: "Sales" },
  engineering: { id: "20000000-0000-4000-8000-000000000007", displayName: "Engineering" },
  marketing: { id: "20000000-0000-4000-8000-000000000008", displayName: "Marketing" },
  finance: { id: "20000000-0000-4000-8000-000000000009", displayName: "Finance" },
  allStaff: { id: "20000000-0000-4000-8000-00000000000a", displayName: "All Staff" },
  londonOffice: { id: "20000000-0000-4000-8000-00000000000b", displayName: "London Office" },
  newYorkOffice: { id: "20000000-0000-4000-8000-00000000000c", displayName: "New York Office" },
} as const;

const WELL_KNOWN_USER_COUNT = Object.keys(SEED_USERS).length;
const WELL_KNOWN_GROUP_COUNT = Object.keys(SEED_GROUPS).length;

/** mulberry32: tiny, fast, and good enough for test data. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex8(rand: () => number): string {
  const n = Math.floor(rand() * 0x100000000);
  return (
    HEX_BYTES[n >>> 24]! + HEX_BYTES[(n >>> 16) & 0xff]! + HEX_BYTES[(n >>> 8) & 0xff]! + HEX_BYTES[n & 0xff]!
  );
}

/** A version-4-shaped GUID drawn from the PRNG. */
function guid(rand: () => number): string {
  const a = hex8(rand);
  const b = hex8(rand);
  const c = hex8(rand);
  const d = hex8(rand);
  const variant = ((parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

const GIVEN_NAMES = [
  "Olivia",
  "Liam",
  "Emma",
  "Noah",
  "Amelia",
  "Oliver",
  "Sofía",
  "Mateo",
  "Chloé",
  "Lucas",
  "Mia",
  "Élodie",
  "Björn",
  "Ingrid",
  "Søren",
  "Aoife",
  "Siobhán",
  "Priya",
  "Arjun",
  "Mei",
  "Hiroshi",
  "Yuki",
  "Fatima",
  "Omar",
  "Zoë",
  "Renée",
  "Łukasz",
  "Małgorzata",
  "Nuño",
  "Ana",
  "João",
  "Chiara",
  "Dmitri",
  "Leilani",
  "Kwame",
  "Amara",
] as const;
const SURNAMES = [
  "Smith",
  "Johnson",
  "García",
  "Müller",
  "Nguyen",
  "Kim",
  "Patel",
  "O'Connor",
  "Rossi",
  "Novák",
  "Dubois",
  "Silva",
  "Andersson",
  "Kowalski",
  "Yamamoto",
  "Chen",
  "Okafor",
  "Haddad",
  "Fernández",
  "Ó Súilleabháin",
  "Jensen",
  "Schröder",
  "Lefèvre",
  "Brown",
  "Wilson",
  "Taylor",
  "Martin",
  "Lee",
  "Walker",
  "Hall",
] as const;
const DEPARTMENTS = [
  "Sales",
  "Engineering",
  "Support",
  "Marketing",
  "Finance",
  "Operations",
  "Legal",
  "People",
] as const;
const JOB_TITLES = [
  "Account Executive",
  "Software Engineer",
  "Support Specialist",
  "Product Manager",
  "Designer",
  "Analyst",
  "Team Lead",
  "Director",
  "Recruiter",
  "Accountant",
] as const;
const OFFICES: readonly {
  office: string;
  city: string;
  country: string;
  state: string | null;
  usage: string;
  phonePrefix: string;
}[] = [
  {
    office: "San Francisco",
    city: "San Francisco",
    country: "United States",
    state: "CA",
    usage: "US",
    phonePrefix: "+1 415 555 ",
  },
  {
    office: "New York",
    city: "New York",
    country: "United States",
    state: "NY",
    usage: "US",
    phonePrefix: "+1 212 555 ",
  },
  {
    office: "London",
    city: "London",
    country: "United Kingdom",
    state: null,
    usage: "GB",
    phonePrefix: "+44 20 7946 ",
  },
  {
    office: "Vancouver",
    city: "Vancouver",
    country: "Canada",
    state: "BC",
    usage: "CA",
    phonePrefix: "+1 604 555 ",
  },
  {
    office: "Berlin",
    city: "Berlin",
    country: "Germany",
    state: null,
    usage: "DE",
    phonePrefix: "+49 30 901820 ",
  },
  {
    office: "Remote",
    city: "Austin",
    country: "United States",
    state: "TX",
    usage: "US",
    phonePrefix: "+1 512 555 ",
  },
];

const aliasCache = new Map<string, string>();

/** Folds "Zoë Ångström" to "zoe.angstrom" as tenant admins usually do for UPNs. */
function alias(given: string, surname: string): string {
  const cacheKey = `${given}|${surname}`;
  let cached = aliasCache.get(cacheKey);
  if (cached === undefined) aliasCache.set(cacheKey, (cached = foldAlias(given, surname)));
  return cached;
}

function foldAlias(given: string, surname: string): string {
  const fold = (text: string) =>
    text
      .normalize("NFD")
      .replace(/\p{M}/gu, "")
      .replace(/ø/g, "o")
      .replace(/ł/g, "l")
      .replace(/[^A-Za-z0-9]/g, "")
      .toLowerCase();
  return `${fold(given)}.${fold(surname)}`;
}

const SEED_EPOCH = Date.UTC(2024, 0, 8, 9, 0, 0);

function createdAt(index: number): string {
  return `${new Date(SEED_EPOCH + index * 3_600_000).toISOString().slice(0, 19)}Z`;
}

function person(
  index: number,
  id: string,
  upn: string,
  given: string,
  surname: string,
  officeName: string,
  extra: Partial<UserInput> = {},
): UserInput {
  const office = OFFICES.find((o) => o.office === officeName) ?? OFFICES[0]!;
  const nickname = upn.split("@")[0]!.replace(/#.*/, "");
  return {
    id,
    userPrincipalName: upn,
    mail: upn,
    givenName: given,
    surname,
    displayName: `${given} ${surname}`,
    jobTitle: "Support Specialist",
    department: "Support",
    mailNickname: nickname,
    accountEnabled: true,
    businessPhones: [`${office.phonePrefix}${String(1000 + index).slice(-4)}`],
    mobilePhone: null,
    officeLocation: office.office,
    country: office.country,
    city: office.city,
    state: office.state,
    usageLocation: office.usage,
    preferredLanguage: "en-US",
    companyName: "Contoso",
    employeeId: `E${String(index + 1).padStart(6, "0")}`,
    employeeType: "Employee",
    userType: "Member",
    proxyAddresses: [`SMTP:${upn}`],
    createdDateTime: createdAt(index),
    ...extra,
  };
}

export function seedDirectory(directory: Directory, options: SeedOptions = {}): void {
  directory.bulkLoad(() => load(directory, options));
}

function load(directory: Directory, options: SeedOptions): void {
  const totalUsers = Math.max(options.users ?? 250, WELL_KNOWN_USER_COUNT);
  const totalGroups = Math.max(options.groups ?? 12, WELL_KNOWN_GROUP_COUNT);
  const rand = prng(options.seed ?? 1);
  const U = SEED_USERS;
  const G = SEED_GROUPS;

  // ----- groups -----
  const groupDescriptions: Record<string, string> = {
    dialpadUsers: "Everyone who gets a Dialpad licence",
    dialpadAdmins: "Dialpad company administrators",
    dialpadSupport: "Support staff using Dialpad",
    supportTier2: "Escalation engineers (nested in Dialpad Support)",
    defaultAccessGroup: "Assigned to Dialpad with Default Access only",
  };
  let groupIndex = 0;
  for (const [key, group] of Object.entries(G)) {
    directory.addGroup({
      id: group.id,
      displayName: group.displayName,
      description: groupDescriptions[key] ?? null,
      mailNickname: group.displayName.replace(/[^A-Za-z0-9]/g, "").toLowerCase(),
      securityEnabled: true,
      mailEnabled: false,
      createdDateTime: createdAt(groupIndex++),
    });
  }
  const extraGroupIds: string[] = [];
  for (let i = WELL_KNOWN_GROUP_COUNT; i < totalGroups; i++) {
    const id = guid(rand);
    const name = `${pick(rand, DEPARTMENTS)} Team ${String(i - WELL_KNOWN_GROUP_COUNT + 1).padStart(4, "0")}`;
    directory.addGroup({ id, displayName: name, mailNickname: `team${i}`, createdDateTime: createdAt(i) });
    extraGroupIds.push(id);
  }

  // ----- well-known users -----
  let index = 0;
  const add = (input: UserInput): GraphUser => directory.addUser(input);
  add(
    person(index++, U.zoe.id, U.zoe.upn, "Zoë", "Ångström", "London", {
      department: "Sales",
      jobTitle: "Account Executive",
    }),
  );
  add(
    person(index++, U.jose.id, U.jose.upn, "José", "Müller", "San Francisco", {
      department: "Engineering",
      jobTitle: "Software Engineer",
      mobilePhone: "+1 415 555 0199",
    }),
  );
  add(
    person(index++, U.noMail.id, U.noMail.upn, "Nomail", "Tester", "New York", {
      mail: null,
      proxyAddresses: [],
    }),
  );
  add(
    person(index++, U.disabled.id, U.disabled.upn, "Dana", "Disabled", "Vancouver", {
      accountEnabled: false,
    }),
  );
  add(person(index++, U.defaultAccessOnly.id, U.defaultAccessOnly.upn, "Dean", "Default", "New York"));
  add(
    person(index++, U.admin.id, U.admin.upn, "Ada", "Admin", "San Francisco", {
      jobTitle: "IT Administrator",
      department: "IT",
    }),
  );
  add(person(index++, U.nestedOnly.id, U.nestedOnly.upn, "Nina", "Nested", "London"));
  add(
    person(index++, U.duplicateA.id, U.duplicateA.upn, "Alex", "Kim", "San Francisco", {
      department: "Sales",
    }),
  );
  add(
    person(index++, U.duplicateB.id, U.duplicateB.upn, "Alex", "Kim", "New York", {
      department: "Marketing",
    }),
  );
  add(person(index++, U.unassigned.id, U.unassigned.upn, "Una", "Unassigned", "London"));
  add(person(index++, U.directAndGroup.id, U.directAndGroup.upn, "Gabe", "Both", "Vancouver"));
  add(person(index++, U.unknownOffice.id, U.unknownOffice.upn, "Bertha", "Berlin", "Berlin"));
  add(person(index++, U.apostrophe.id, U.apostrophe.upn, "Seán", "O'Brien", "New York"));
  add(
    person(index++, U.guest.id, U.guest.upn, "Pat", "Partner", "Remote", {
      mail: "pat@fabrikam.example",
      userType: "Guest",
      companyName: "Fabrikam",
      employeeId: null,
      employeeType: null,
      proxyAddresses: ["SMTP:pat@fabrikam.example"],
    }),
  );
  add(
    person(index++, U.mailDiffers.id, U.mailDiffers.upn, "Mo", "Alias", "San Francisco", {
      mail: "maurice.alias@contoso.example",
      proxyAddresses: ["SMTP:maurice.alias@contoso.example", "smtp:mo.alias@contoso.example"],
    }),
  );
  add(person(index++, U.softDeleted.id, U.softDeleted.upn, "Fred", "Former", "London"));
  add(
    person(
      index++,
      U.defaultAccessGroupMember.id,
      U.defaultAccessGroupMember.upn,
      "Gwen",
      "Defaultgroup",
      "Vancouver",
    ),
  );

  // ----- well-known memberships and assignments -----
  directory.addMember(G.dialpadUsers.id, U.jose.id);
  directory.addMember(G.dialpadUsers.id, U.directAndGroup.id);
  directory.addMember(G.dialpadSupport.id, G.supportTier2.id);
  directory.addMember(G.supportTier2.id, U.nestedOnly.id);
  directory.addMember(G.defaultAccessGroup.id, U.defaultAccessGroupMember.id);
  directory.addMember(G.londonOffice.id, U.zoe.id);
  directory.addMember(G.sales.id, U.zoe.id);
  directory.addMember(G.engineering.id, U.jose.id);
  for (const key of [
    "zoe",
    "noMail",
    "disabled",
    "duplicateA",
    "duplicateB",
    "directAndGroup",
    "unknownOffice",
    "apostrophe",
    "guest",
    "mailDiffers",
    "softDeleted",
  ] as const) {
    directory.assign(U[key].id, DIALPAD_USER_ROLE_ID);
  }
  directory.assign(U.admin.id, DIALPAD_ADMIN_ROLE_ID);
  directory.assign(U.defaultAccessOnly.id, DEFAULT_ACCESS_ROLE_ID);
  directory.assign(G.dialpadUsers.id, DIALPAD_USER_ROLE_ID);
  directory.assign(G.dialpadAdmins.id, DIALPAD_ADMIN_ROLE_ID);
  directory.assign(G.dialpadSupport.id, DIALPAD_USER_ROLE_ID);
  directory.assign(G.defaultAccessGroup.id, DEFAULT_ACCESS_ROLE_ID);
  directory.softDeleteUser(U.softDeleted.id);

  // ----- generated users -----
  const usedAliases = new Set<string>(Object.values(U).map((u) => u.upn.split("@")[0]!));
  const departmentGroups: Record<string, string> = {
    Sales: G.sales.id,
    Engineering: G.engineering.id,
    Marketing: G.marketing.id,
    Finance: G.finance.id,
  };
  const officeGroups: Record<string, string> = { London: G.londonOffice.id, "New York": G.newYorkOffice.id };
  // For big tenants "All Staff" would dominate memory and delta pages without testing anything new.
  const addToAllStaff = totalUsers <= 5_000;

  for (; index < totalUsers; index++) {
    const given = pick(rand, GIVEN_NAMES);
    const surname = pick(rand, SURNAMES);
    let nickname = alias(given, surname);
    if (usedAliases.has(nickname)) nickname = `${nickname}${index}`;
    usedAliases.add(nickname);
    const upn = `${nickname}@${SEED_DOMAIN}`;
    const office = pick(rand, OFFICES);
    const department = pick(rand, DEPARTMENTS);
    const roll = rand();
    const hasMail = rand() >= 0.04;
    const enabled = rand() >= 0.05;
    const id = guid(rand);
    directory.addUser(
      person(index, id, upn, given, surname, office.office, {
        mail: hasMail ? upn : null,
        proxyAddresses: hasMail ? [`SMTP:${upn}`] : [],
        department,
        jobTitle: pick(rand, JOB_TITLES),
        accountEnabled: enabled,
        mobilePhone:
          rand() < 0.6 ? `${office.phonePrefix}${String(2000 + (index % 8000)).padStart(4, "0")}` : null,
      }),
    );
    const deptGroup = departmentGroups[department];
    if (deptGroup) directory.addMember(deptGroup, id);
    const officeGroup = officeGroups[office.office];
    if (officeGroup) directory.addMember(officeGroup, id);
    if (addToAllStaff) directory.addMember(G.allStaff.id, id);
    if (extraGroupIds.length > 0) directory.addMember(pick(rand, extraGroupIds), id);

    // Roughly: 45 % direct User, 3 % direct Admin, 3 % Default Access only, 20 % through "Dialpad Users",
    // 3 % through "Support Tier 2" (nested: out of scope), the rest unassigned.
    if (roll < 0.45) directory.assign(id, DIALPAD_USER_ROLE_ID);
    else if (roll < 0.48) directory.assign(id, DIALPAD_ADMIN_ROLE_ID);
    else if (roll < 0.51) directory.assign(id, DEFAULT_ACCESS_ROLE_ID);
    else if (roll < 0.71) directory.addMember(G.dialpadUsers.id, id);
    else if (roll < 0.74) directory.addMember(G.supportTier2.id, id);
  }
}

export function createSeededDirectory(options: SeedOptions = {}): Directory {
  const directory = new Directory();
  seedDirectory(directory, options);
  return directory;
}

export interface SeedDescription {
  users: { [K in keyof typeof SEED_USERS]: string };
  groups: { [K in keyof typeof SEED_GROUPS]: string };
  /**
   * Users an Entra provisioning job with "Sync only assigned users and groups" would consider for
   * Dialpad, computed from the directory's current state: assigned with a role other than Default
   * Access, directly or through a *directly* assigned group (no nesting), and not soft-deleted.
   * Disabled users are included (Entra provisions them as inactive).
   */
  inScopeUserIds: string[];
  /** Active users that are not in scope (unassigned, Default Access only, nested-only...). */
  outOfScopeUserIds: string[];
}

/** An oracle for tests: well-known ids plus the in-scope set derived from the live directory. */
export function describeSeed(directory: Directory): SeedDescription {
  const users = Object.fromEntries(
    Object.entries(SEED_USERS).map(([k, v]) => [k, v.id]),
  ) as SeedDescription["users"];
  const groups = Object.fromEntries(
    Object.entries(SEED_GROUPS).map(([k, v]) => [k, v.id]),
  ) as SeedDescription["groups"];
  const inScope = new Set<string>();
  for (const assignment of directory.listAssignments()) {
    if (assignment.appRoleId === DEFAULT_ACCESS_ROLE_ID) continue;
    if (assignment.principalType === "User") inScope.add(assignment.principalId);
    else {
      for (const member of directory.listMembers(assignment.principalId)) {
        if (member.type === "user") inScope.add(member.id);
      }
    }
  }
  const active = directory.listUsers();
  return {
    users,
    groups,
    inScopeUserIds: active.filter((u) => inScope.has(u.id)).map((u) => u.id),
    outOfScopeUserIds: active.filter((u) => !inScope.has(u.id)).map((u) => u.id),
  };
}
