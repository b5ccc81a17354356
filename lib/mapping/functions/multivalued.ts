import { AppRoleValue, scalarToText, toValueList, type EntraScalar } from "../values";
import { integerAt, textAt, valueAt } from "./arguments";
import type { FunctionSpec } from "./registry";

const PROXY_ADDRESSES = [
  "SMTP:john@contoso.com",
  "smtp:jdoe@contoso.com",
  "smtp:john@contoso.com",
  "SMTP:john@contoso.com",
];

const COUNT: FunctionSpec = {
  name: "Count",
  category: "Multi-valued",
  parameters: [{ name: "attribute", description: "Multi-valued attribute whose elements are counted." }],
  summary: "Returns the number of values in a multi-valued attribute (1 for a single value).",
  nulls: "NULL gives 0.",
  examples: [
    {
      expression: "Count([proxyAddresses])",
      source: { proxyAddresses: PROXY_ADDRESSES },
      output: 4,
      origin: "ours",
    },
    { expression: "Count([proxyAddresses])", source: {}, output: 0, origin: "ours" },
  ],
  evaluate: (args) => toValueList(valueAt(args, 0)).length,
};

const ITEM: FunctionSpec = {
  name: "Item",
  category: "Multi-valued",
  parameters: [
    { name: "attribute", description: "Multi-valued attribute." },
    { name: "index", description: "1-based index of the value (0 must not be used)." },
  ],
  summary: "Returns one value of a multi-valued attribute by its 1-based index.",
  nulls: "NULL attribute or an index outside 1…Count gives NULL.",
  examples: [
    {
      expression: "Item([proxyAddresses], 1)",
      source: { proxyAddresses: PROXY_ADDRESSES },
      output: "SMTP:john@contoso.com",
      origin: "Microsoft",
    },
    {
      expression: "Item([proxyAddresses], 9)",
      source: { proxyAddresses: PROXY_ADDRESSES },
      output: null,
      origin: "ours",
    },
  ],
  evaluate(args, context) {
    const index = integerAt(args, 1, "index", context);
    if (index === null) return null;
    return toValueList(valueAt(args, 0))[index - 1] ?? null;
  },
};

const REMOVE_DUPLICATES: FunctionSpec = {
  name: "RemoveDuplicates",
  category: "Multi-valued",
  parameters: [{ name: "attribute", description: "Multi-valued attribute." }],
  summary:
    "Returns the multi-valued attribute with repeated values removed (case-sensitive; first occurrence kept, order kept).",
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: "RemoveDuplicates([proxyAddresses])",
      source: { proxyAddresses: PROXY_ADDRESSES },
      output: ["SMTP:john@contoso.com", "smtp:jdoe@contoso.com", "smtp:john@contoso.com"],
      origin: "Microsoft",
      note: "Microsoft describes the result; the values are ours.",
    },
  ],
  evaluate(args) {
    const value = valueAt(args, 0);
    if (value === null) return null;
    const seen = new Set<string>();
    const unique: EntraScalar[] = [];
    for (const item of toValueList(value)) {
      const key = item instanceof AppRoleValue ? `role:${item.value}` : scalarToText(item);
      if (seen.has(key)) continue;
      seen.add(key);
      unique.push(item);
    }
    return unique;
  },
};

const SPLIT: FunctionSpec = {
  name: "Split",
  category: "Multi-valued",
  parameters: [
    { name: "source", description: "String to split." },
    { name: "delimiter", description: 'Delimiter string, e.g. ",".' },
  ],
  summary:
    'Splits a string into a multi-valued attribute at each delimiter. Surrounding spaces of each value are trimmed, as Microsoft\'s example shows ("PermissionSetOne, PermissionSetTwo" gives two clean values).',
  nulls: "NULL gives NULL; an empty delimiter gives the whole string as one value.",
  examples: [
    {
      expression: 'Split([extensionAttribute5], ",")',
      source: { extensionAttribute5: "PermissionSetOne, PermissionSetTwo" },
      output: ["PermissionSetOne", "PermissionSetTwo"],
      origin: "Microsoft",
    },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    if (source === null) return null;
    const delimiter = textAt(args, 1) ?? "";
    if (delimiter === "") return [source];
    return source.split(delimiter).map((part) => part.trim());
  },
};

function rolesOf(args: Parameters<FunctionSpec["evaluate"]>[0]): AppRoleValue[] {
  return toValueList(valueAt(args, 0)).map((item) =>
    item instanceof AppRoleValue ? item : new AppRoleValue(scalarToText(item), scalarToText(item), false),
  );
}

const ROLES = [
  { value: "Admin", displayName: "Admin" },
  { value: "User", displayName: "User" },
];

const APP_ROLE_ASSIGNMENTS_COMPLEX: FunctionSpec = {
  name: "AppRoleAssignmentsComplex",
  category: "App roles",
  parameters: [{ name: "source", description: "The user's [appRoleAssignments] object." }],
  signature: "AppRoleAssignmentsComplex([appRoleAssignments])",
  summary:
    'Exports every app role assigned to the user as roles entries { primary: false, type: "WindowsAzureActiveDirectoryRole", display, value }. Updates only add roles (PATCH Add); roles removed in Entra stay in the target.',
  nulls: "No assignments gives NULL.",
  examples: [
    {
      expression: "AppRoleAssignmentsComplex([appRoleAssignments])",
      source: { appRoleAssignments: ROLES },
      output: [
        { primary: false, type: "WindowsAzureActiveDirectoryRole", display: "Admin", value: "Admin" },
        { primary: false, type: "WindowsAzureActiveDirectoryRole", display: "User", value: "User" },
      ],
      origin: "Microsoft",
    },
  ],
  evaluate(args) {
    const roles = rolesOf(args).map((role) => new AppRoleValue(role.value, role.display, false, role.type));
    return roles.length === 0 ? null : roles;
  },
};

const ASSERTIVE_APP_ROLE_ASSIGNMENTS_COMPLEX: FunctionSpec = {
  ...APP_ROLE_ASSIGNMENTS_COMPLEX,
  name: "AssertiveAppRoleAssignmentsComplex",
  signature: "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
  summary:
    "Like AppRoleAssignmentsComplex, but updates replace the whole roles list (PATCH Replace), so roles removed in Entra are removed from the target.",
  examples: [
    {
      expression: "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
      source: { appRoleAssignments: [{ value: "Admin", displayName: "Administrator" }] },
      output: [
        { primary: false, type: "WindowsAzureActiveDirectoryRole", display: "Administrator", value: "Admin" },
      ],
      origin: "ours",
    },
  ],
};

const SINGLE_APP_ROLE_ASSIGNMENT: FunctionSpec = {
  name: "SingleAppRoleAssignment",
  category: "App roles",
  parameters: [{ name: "source", description: "The user's [appRoleAssignments] object." }],
  signature: "SingleAppRoleAssignment([appRoleAssignments])",
  summary:
    "Returns the user's one app role as a string (its value), for roles[primary eq \"True\"].value (or .display / .type, which take the role's display name or type). With several roles Entra does not say which one it picks; we take the first.",
  nulls: "No assignments gives NULL.",
  examples: [
    {
      expression: "SingleAppRoleAssignment([appRoleAssignments])",
      source: { appRoleAssignments: [{ value: "Admin", displayName: "Administrator" }] },
      output: "Admin",
      origin: "Microsoft",
    },
  ],
  evaluate(args) {
    const first = rolesOf(args)[0];
    return first ? new AppRoleValue(first.value, first.display, true, first.type) : null;
  },
};

export const MULTI_VALUED_FUNCTIONS: readonly FunctionSpec[] = [
  COUNT,
  ITEM,
  REMOVE_DUPLICATES,
  SPLIT,
  APP_ROLE_ASSIGNMENTS_COMPLEX,
  ASSERTIVE_APP_ROLE_ASSIGNMENTS_COMPLEX,
  SINGLE_APP_ROLE_ASSIGNMENT,
];
