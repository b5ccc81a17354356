import {
  CORE_GROUP,
  CORE_USER,
  DIALPAD_USER,
  ENTERPRISE_USER,
  RESOURCE_TYPE,
  SCHEMA,
  SP_CONFIG,
} from "./urns";

/** RFC 7643 §7 attribute definition, as served by /Schemas. */
export interface AttributeDef {
  name: string;
  type: "string" | "boolean" | "complex" | "reference" | "dateTime" | "integer" | "decimal" | "binary";
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  returned: "always" | "never" | "default" | "request";
  uniqueness: "none" | "server" | "global";
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

type Opts = Partial<Omit<AttributeDef, "name" | "description" | "type">>;

function def(name: string, type: AttributeDef["type"], description: string, opts: Opts = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
    ...opts,
  };
}
const str = (name: string, description: string, opts?: Opts) => def(name, "string", description, opts);
const multi = (name: string, description: string, subAttributes: AttributeDef[], opts?: Opts) =>
  def(name, "complex", description, { multiValued: true, subAttributes, ...opts });

const typedValues = (what: string, types: string[]): AttributeDef[] => [
  str("value", `The ${what}.`),
  str("display", "A human-readable name, primarily used for display purposes."),
  str("type", `A label indicating the ${what}'s function.`, { canonicalValues: types }),
  def("primary", "boolean", `Whether this is the primary ${what}.`),
];

export const LICENSE_TYPES = ["Dialpad_Ai Voice", "Dialpad_Support", "Dialpad_Ai Sales"] as const;
export type LicenseType = (typeof LICENSE_TYPES)[number];

const userAttributes: AttributeDef[] = [
  str("userName", "The user's email address; Dialpad identifies users by email.", {
    required: true,
    uniqueness: "server",
  }),
  def("name", "complex", "The components of the user's name.", {
    subAttributes: [
      str("formatted", "The full name."),
      str("familyName", "The family name."),
      str("givenName", "The given name."),
      str("middleName", "The middle name."),
      str("honorificPrefix", "Honorific prefix."),
      str("honorificSuffix", "Honorific suffix."),
    ],
  }),
  str("displayName", "The name shown in Dialpad."),
  str("nickName", "Casual name."),
  def("profileUrl", "reference", "Profile URL.", { referenceTypes: ["external"] }),
  str("title", "Job title."),
  str("userType", "Relationship to the organisation."),
  str("preferredLanguage", "Preferred language."),
  str("locale", "Locale."),
  str("timezone", "Time zone (IANA)."),
  def("active", "boolean", "false suspends the Dialpad user (kept, licence freed); true reactivates."),
  multi("emails", "Email addresses.", typedValues("email address", ["work", "home", "other"])),
  multi(
    "phoneNumbers",
    "Phone numbers. The entry of type 'Dialpad' is the number Dialpad assigned; it is read-only.",
    typedValues("phone number", ["work", "home", "mobile", "fax", "pager", "other", "Dialpad"]),
  ),
  multi("addresses", "Physical addresses; 'country' places a new user in an office of that country.", [
    str("formatted", "The full mailing address."),
    str("streetAddress", "Street."),
    str("locality", "City."),
    str("region", "State or region."),
    str("postalCode", "Postal code."),
    str("country", "Country (ISO 3166-1 alpha-2 preferred)."),
    str("type", "Address type.", { canonicalValues: ["work", "home", "other"] }),
    def("primary", "boolean", "Whether this is the primary address."),
  ]),
  multi("roles", "Roles.", typedValues("role", [])),
  multi(
    "groups",
    "Groups the user belongs to (read-only; change membership through /Groups).",
    [
      str("value", "The group's id.", { mutability: "readOnly", caseExact: true }),
      def("$ref", "reference", "The group's URI.", { mutability: "readOnly", referenceTypes: ["Group"] }),
      str("display", "The group's displayName.", { mutability: "readOnly" }),
      str("type", "direct", { mutability: "readOnly", canonicalValues: ["direct"] }),
    ],
    { mutability: "readOnly" },
  ),
];

const enterpriseAttributes: AttributeDef[] = [
  str("employeeNumber", "Employee number."),
  str("costCenter", "Cost center."),
  str("organization", "Organisation."),
  str("division", "Division."),
  str("department", "Department; places a new user in the office of that exact name if there is one."),
  def("manager", "complex", "The user's manager.", {
    subAttributes: [
      str("value", "The manager's id.", { caseExact: true }),
      def("$ref", "reference", "The manager's URI.", { referenceTypes: ["User"] }),
      str("displayName", "The manager's name.", { mutability: "readOnly" }),
    ],
  }),
  str(
    "officeName",
    "Dialpad custom attribute: the Dialpad office to create the user in (exact office name).",
  ),
  str("physicalDeliveryOfficeName", "Dialpad custom attribute: office name used when officeName is absent."),
  str("licenseType", "Dialpad custom attribute: the licence to assign.", {
    canonicalValues: [...LICENSE_TYPES],
  }),
];

const dialpadAttributes: AttributeDef[] = [
  str("officeId", "The id of the Dialpad office the user was placed in.", {
    mutability: "readOnly",
    caseExact: true,
  }),
  str("officeName", "The name of that office.", { mutability: "readOnly" }),
  str("licenseType", "The licence the user holds.", {
    mutability: "readOnly",
    canonicalValues: [...LICENSE_TYPES],
  }),
  str("state", "active, or suspended after active=false.", {
    mutability: "readOnly",
    canonicalValues: ["active", "suspended"],
  }),
];

const groupAttributes: AttributeDef[] = [
  str("displayName", "The group's name. Unique; Dialpad does not support renaming a group.", {
    required: true,
    uniqueness: "server",
  }),
  multi("members", "The group's members (users only).", [
    str("value", "The member's id.", { mutability: "immutable", caseExact: true }),
    def("$ref", "reference", "The member's URI.", { mutability: "immutable", referenceTypes: ["User"] }),
    str("display", "The member's display name.", { mutability: "readOnly" }),
    str("type", "User", { mutability: "immutable", canonicalValues: ["User"] }),
  ]),
];

interface SchemaDoc {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const SCHEMA_DOCS: readonly SchemaDoc[] = [
  { id: CORE_USER, name: "User", description: "User Account", attributes: userAttributes },
  {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description:
      "Enterprise User, including Dialpad's custom attributes officeName, physicalDeliveryOfficeName and licenseType",
    attributes: enterpriseAttributes,
  },
  { id: CORE_GROUP, name: "Group", description: "Group", attributes: groupAttributes },
  {
    id: DIALPAD_USER,
    name: "DialpadUser",
    description: "Read-only Dialpad placement of the user (emulator-defined extension)",
    attributes: dialpadAttributes,
  },
];

/** The schema definition for `attr` (case-insensitive), to canonicalise names the client spelled differently. */
export function attributeDef(schema: string, attr: string): AttributeDef | undefined {
  const doc = SCHEMA_DOCS.find((d) => d.id === schema);
  const lower = attr.toLowerCase();
  return doc?.attributes.find((a) => a.name.toLowerCase() === lower);
}

export function subAttributeDef(parent: AttributeDef | undefined, sub: string): AttributeDef | undefined {
  const lower = sub.toLowerCase();
  return parent?.subAttributes?.find((a) => a.name.toLowerCase() === lower);
}

function meta(baseUrl: string, resourceType: string, path: string) {
  return { resourceType, location: `${baseUrl}${path}` };
}

/** The /Schemas resources; attributes `hidden` refuses are left out (the `hideRefusedAttributes` knob). */
export function schemaResources(
  baseUrl: string,
  hidden?: { refuses(schema: string, attr: string, sub?: string): boolean },
) {
  const declared = (doc: SchemaDoc): AttributeDef[] =>
    doc.attributes
      .filter((attribute) => !hidden?.refuses(doc.id, attribute.name))
      .map((attribute) =>
        attribute.subAttributes && hidden
          ? {
              ...attribute,
              subAttributes: attribute.subAttributes.filter(
                (sub) => !hidden.refuses(doc.id, attribute.name, sub.name),
              ),
            }
          : attribute,
      );
  return SCHEMA_DOCS.map((doc) => ({
    schemas: [SCHEMA],
    ...doc,
    attributes: declared(doc),
    meta: meta(baseUrl, "Schema", `/Schemas/${doc.id}`),
  }));
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [RESOURCE_TYPE],
      id: "User",
      name: "User",
      endpoint: "/Users",
      description: "Dialpad user",
      schema: CORE_USER,
      schemaExtensions: [
        { schema: ENTERPRISE_USER, required: false },
        { schema: DIALPAD_USER, required: false },
      ],
      meta: meta(baseUrl, "ResourceType", "/ResourceTypes/User"),
    },
    {
      schemas: [RESOURCE_TYPE],
      id: "Group",
      name: "Group",
      endpoint: "/Groups",
      description: "Dialpad group",
      schema: CORE_GROUP,
      meta: meta(baseUrl, "ResourceType", "/ResourceTypes/Group"),
    },
  ];
}

export const MAX_RESULTS = 100;

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SP_CONFIG],
    documentationUri: "https://help.dialpad.com/docs/microsoft-azure-scim",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "A Dialpad company API key sent as 'Authorization: Bearer <key>'",
        specUri: "https://www.rfc-editor.org/info/rfc6750",
        documentationUri: "https://developers.dialpad.com/docs/authentication-basics",
        primary: true,
      },
    ],
    meta: meta(baseUrl, "ServiceProviderConfig", "/ServiceProviderConfig"),
  };
}
