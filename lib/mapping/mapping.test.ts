import { describe, expect, test } from "vitest";
import {
  ZMappingConfig,
  buildCreateResource,
  buildPatch,
  createdProperties,
  defaultDialpadMapping,
  desiredStateHash,
  exportEntraSchema,
  importEntraSchema,
  keepFieldsTheSchemaLacks,
  matchingValues,
  sourceAttributesFor,
  type TMappingConfig,
  type TObjectMapping,
} from "./index";

const ada = {
  objectId: "11111111-2222-3333-4444-555555555555",
  userPrincipalName: "ada@contoso.com",
  mail: "ada@contoso.com",
  givenName: "Ada",
  surname: "Lovelace",
  displayName: "Ada Lovelace",
  jobTitle: "Engineer",
  telephoneNumber: "+1 555 0100",
  mobile: null,
  department: "R&D",
  physicalDeliveryOfficeName: "London",
  country: "GB",
  IsSoftDeleted: false,
};

function withUsers(
  config: TMappingConfig,
  change: (users: TObjectMapping) => TObjectMapping,
): TMappingConfig {
  return { ...config, users: change(structuredClone(config.users)) };
}

describe("default Dialpad mapping", () => {
  const config = defaultDialpadMapping();

  test("is valid and every entry says why it exists", () => {
    expect(ZMappingConfig.safeParse(config).success).toBe(true);
    for (const mapping of [...config.users.attributeMappings, ...config.groups.attributeMappings]) {
      expect(mapping.description?.length ?? 0, mapping.target).toBeGreaterThan(20);
    }
  });

  test("POST body for a new user", () => {
    const { resource, problems } = buildCreateResource(config.users, ada);
    expect(problems).toEqual([]);
    expect(resource).toEqual({
      schemas: [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
      ],
      userName: "ada@contoso.com",
      active: true,
      emails: [{ type: "work", value: "ada@contoso.com", primary: true }],
      name: { givenName: "Ada", familyName: "Lovelace" },
      displayName: "Ada Lovelace",
      externalId: "11111111-2222-3333-4444-555555555555",
      title: "Engineer",
      phoneNumbers: [{ type: "work", value: "+1 555 0100" }],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        department: "R&D",
        officeName: "London",
      },
      addresses: [{ type: "work", country: "GB" }],
      meta: { resourceType: "User" },
    });
    expect(resource).not.toHaveProperty("phoneNumbers.1"); // mobile is NULL: never exported
  });

  test("minimal PATCH: changed values Replace, new values Add, unchanged (case-insensitively) left out, active as Boolean", () => {
    const current = { ...buildCreateResource(config.users, ada).resource, id: "dp-1" };
    const changed = {
      ...ada,
      surname: "King",
      IsSoftDeleted: true,
      mobile: "+44 7700 900000",
      department: "r&d",
      jobTitle: null,
    };
    const patch = buildPatch(config.users, changed, current);
    expect(patch.request).toEqual({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "Replace", path: "active", value: false },
        { op: "Replace", path: "name.familyName", value: "King" },
        { op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+44 7700 900000" },
      ],
    });
    expect(patch.modifiedProperties).toEqual([
      { displayName: "active", oldValue: "true", newValue: "false" },
      { displayName: "name.familyName", oldValue: "Lovelace", newValue: "King" },
      { displayName: 'phoneNumbers[type eq "mobile"].value', oldValue: null, newValue: "+44 7700 900000" },
    ]);
  });

  test("an unchanged user needs no PATCH", () => {
    const current = buildCreateResource(config.users, ada).resource;
    expect(buildPatch(config.users, ada, current).request).toBeNull();
  });

  test("enterprise extension attributes are patched by their full URN path", () => {
    const current = buildCreateResource(config.users, ada).resource;
    expect(
      buildPatch(config.users, { ...ada, physicalDeliveryOfficeName: "Paris" }, current).operations,
    ).toEqual([
      {
        op: "Replace",
        path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:officeName",
        value: "Paris",
      },
    ]);
  });

  test("group members: Add the new ones, Remove the departed ones, references resolved to target ids", () => {
    const group = { objectId: "g-1", displayName: "Support", members: ["u-1", "u-2"] };
    const created = buildCreateResource(config.groups, group);
    expect(created.resource).toEqual({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Support",
      externalId: "g-1",
      meta: { resourceType: "Group" },
    });
    const resolveReference = (_target: string, id: string) => (id === "u-unknown" ? null : `dp-${id}`);
    const patch = buildPatch(
      config.groups,
      { ...group, members: ["u-2", "u-3", "u-unknown"] },
      { ...created.resource, members: [{ value: "dp-u-1" }, { value: "dp-u-2" }] },
      { resolveReference },
    );
    expect(patch.operations).toEqual([
      { op: "Add", path: "members", value: [{ $ref: null, value: "dp-u-3" }] },
      { op: "Remove", path: "members", value: [{ $ref: null, value: "dp-u-1" }] },
    ]);
    // Entra reads groups with excludedAttributes=members: with no current members known, only Adds are sent.
    expect(buildPatch(config.groups, group, created.resource, { resolveReference }).operations).toEqual([
      {
        op: "Add",
        path: "members",
        value: [
          { $ref: null, value: "dp-u-1" },
          { $ref: null, value: "dp-u-2" },
        ],
      },
    ]);
  });

  test("matching values in precedence order, skipping empty ones", () => {
    const users = structuredClone(config.users);
    const externalId = users.attributeMappings.find((mapping) => mapping.target === "externalId");
    if (externalId) externalId.matchingPriority = 2;
    expect(matchingValues(users, ada)).toEqual([
      { targetAttribute: "userName", value: "ada@contoso.com", priority: 1 },
      { targetAttribute: "externalId", value: ada.objectId, priority: 2 },
    ]);
    expect(matchingValues(users, { ...ada, userPrincipalName: "" })).toEqual([
      { targetAttribute: "externalId", value: ada.objectId, priority: 2 },
    ]);
  });

  test("source attributes to $select include expression and scoping-filter attributes", () => {
    const scoped = withUsers(config, (users) => ({
      ...users,
      scope: {
        groups: [
          {
            name: "Sales",
            clauses: [
              {
                operatorName: "EQUALS",
                sourceOperandName: "companyName",
                targetOperand: { values: ["Contoso"] },
              },
            ],
          },
        ],
      },
    }));
    expect(sourceAttributesFor(scoped, "user")).toEqual([
      "objectId",
      "userPrincipalName",
      "IsSoftDeleted",
      "mail",
      "givenName",
      "surname",
      "displayName",
      "jobTitle",
      "telephoneNumber",
      "mobile",
      "department",
      "physicalDeliveryOfficeName",
      "country",
      "companyName",
    ]);
    expect(sourceAttributesFor(config, "group")).toEqual(["objectId", "displayName", "members"]);
  });

  test("the desired-state hash ignores attribute order and create-only values but changes with exported values", () => {
    const hash = desiredStateHash(config.users, ada);
    expect(desiredStateHash(config.users, { ...ada })).toBe(hash);
    expect(
      desiredStateHash(
        { ...config.users, attributeMappings: [...config.users.attributeMappings].reverse() },
        ada,
      ),
    ).toBe(hash);
    expect(desiredStateHash(config.users, { ...ada, surname: "King" })).not.toBe(hash);
    expect(desiredStateHash(config.users, { ...ada, someUnmappedAttribute: "x" })).toBe(hash);
  });
});

describe("attribute mapping options", () => {
  const base = defaultDialpadMapping().users;
  const users: TObjectMapping = {
    ...base,
    attributeMappings: [
      ...base.attributeMappings,
      {
        type: "Expression",
        source: "Guid()",
        target: "urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User:seed",
        defaultValue: null,
        apply: "OnlyDuringCreation",
        matchingPriority: 0,
        caseExact: false,
        flowBehavior: "FlowWhenChanged",
      },
      {
        type: "Direct",
        source: "employeeId",
        target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        defaultValue: "none",
        apply: "Always",
        matchingPriority: 0,
        caseExact: false,
        flowBehavior: "FlowWhenChanged",
      },
      {
        type: "Constant",
        source: "Dialpad_Ai Voice",
        target: "urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User:licenseType",
        defaultValue: null,
        apply: "Always",
        matchingPriority: 0,
        caseExact: false,
        flowBehavior: "FlowWhenChanged",
      },
      {
        type: "Expression",
        source: "Redact([extensionAttribute1])",
        target: "nickName",
        defaultValue: null,
        apply: "Always",
        matchingPriority: 0,
        caseExact: true,
        flowBehavior: "FlowWhenChanged",
      },
      {
        type: "None",
        source: "",
        target: "preferredLanguage",
        defaultValue: "en-US",
        apply: "Always",
        matchingPriority: 0,
        caseExact: false,
        flowBehavior: "FlowWhenChanged",
      },
    ],
  };

  test("create: create-only and default values are sent, constants too", () => {
    const { resource, attributes } = buildCreateResource(users, { ...ada, extensionAttribute1: "secret" });
    expect(resource["urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User"]).toMatchObject({
      licenseType: "Dialpad_Ai Voice",
      seed: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(resource["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]).toMatchObject({
      employeeNumber: "none",
    });
    expect(resource.preferredLanguage).toBe("en-US");
    expect(resource.schemas).toContain("urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User");
    expect(createdProperties(attributes).find((property) => property.displayName === "nickName")).toEqual({
      displayName: "nickName",
      oldValue: null,
      newValue: "[Redact]",
    });
  });

  test("update: create-only attributes, defaults and None mappings are left alone; Redact hides old and new values", () => {
    const current = {
      userName: "ada@contoso.com",
      nickName: "old-secret",
      preferredLanguage: "fr-FR",
      "urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User": {
        seed: "kept",
        licenseType: "Dialpad_Ai Voice",
      },
    };
    const patch = buildPatch(users, { ...ada, extensionAttribute1: "new-secret" }, current);
    const paths = patch.operations.map((operation) => operation.path);
    expect(paths).not.toContain("urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User:seed");
    expect(paths).not.toContain("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
    expect(paths).not.toContain("preferredLanguage");
    expect(patch.operations).toContainEqual({ op: "Replace", path: "nickName", value: "new-secret" });
    expect(patch.modifiedProperties).toContainEqual({
      displayName: "nickName",
      oldValue: "[Redact]",
      newValue: "[Redact]",
    });
  });

  test("caseExact mappings patch a change of case; others do not", () => {
    const current = { nickName: "SECRET", displayName: "ADA LOVELACE" };
    const operations = buildPatch(users, { ...ada, extensionAttribute1: "secret" }, current).operations.map(
      (operation) => operation.path,
    );
    expect(operations).toContain("nickName");
    expect(operations).not.toContain("displayName");
  });

  test("an expression that fails is reported per attribute instead of aborting the others", () => {
    const broken: TObjectMapping = {
      ...base,
      attributeMappings: base.attributeMappings.map((mapping) =>
        mapping.target === "title"
          ? { ...mapping, type: "Expression" as const, source: "CDate([hireDate])" }
          : mapping,
      ),
    };
    const { problems, resource } = buildCreateResource(broken, { ...ada, hireDate: "someday" });
    expect(problems).toEqual([
      { target: "title", message: expect.stringMatching(/CDate: expression: "someday" is not a date/) },
    ]);
    expect(resource.userName).toBe("ada@contoso.com");
  });

  test('roles: AppRoleAssignmentsComplex only adds, Assertive replaces, SingleAppRoleAssignment fills roles[primary eq "True"]', () => {
    const roleMapping = (source: string, target: string) => ({
      ...base,
      attributeMappings: [
        {
          type: "Expression" as const,
          source,
          target,
          defaultValue: null,
          apply: "Always" as const,
          matchingPriority: 0,
          caseExact: false,
          flowBehavior: "FlowWhenChanged" as const,
        },
      ],
    });
    const source = { appRoleAssignments: [{ value: "Admin", displayName: "Administrator" }] };
    const current = {
      roles: [{ value: "User", display: "User", primary: false, type: "WindowsAzureActiveDirectoryRole" }],
    };
    const role = {
      primary: false,
      type: "WindowsAzureActiveDirectoryRole",
      display: "Administrator",
      value: "Admin",
    };
    expect(
      buildPatch(roleMapping("AppRoleAssignmentsComplex([appRoleAssignments])", "roles"), source, current)
        .operations,
    ).toEqual([{ op: "Add", path: "roles", value: [role] }]);
    expect(
      buildPatch(
        roleMapping("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", "roles"),
        source,
        current,
      ).operations,
    ).toEqual([{ op: "Replace", path: "roles", value: [role] }]);
    expect(
      buildCreateResource(
        roleMapping("SingleAppRoleAssignment([appRoleAssignments])", 'roles[primary eq "True"].display'),
        source,
      ).resource.roles,
    ).toEqual([{ primary: true, display: "Administrator" }]);
  });
});

describe("configuration validation reports each problem at its field path", () => {
  const valid = defaultDialpadMapping();
  const issuesOf = (config: unknown) => {
    const result = ZMappingConfig.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => ({
          path: issue.path,
          message: issue.message,
          params: (issue as { params?: unknown }).params,
        }));
  };

  test("an invalid expression reports its position", () => {
    const config = withUsers(valid, (users) => {
      const target = users.attributeMappings[1];
      if (target) target.source = 'Switch([IsSoftDeleted], , "False" "True")';
      return users;
    });
    expect(issuesOf(config)).toEqual([
      {
        path: ["users", "attributeMappings", 1, "source"],
        message: expect.stringMatching(
          /Unexpected "\\"" in the argument list \(line 1, column 35, offset 34\)/,
        ),
        params: { position: { offset: 34, line: 1, column: 35 }, expected: ['","', '")"'] },
      },
    ]);
  });

  test("users need a matching attribute; targets and precedences must be unique", () => {
    const config = withUsers(valid, (users) => {
      users.attributeMappings.forEach((mapping) => (mapping.matchingPriority = 0));
      const title = users.attributeMappings.find((mapping) => mapping.target === "title");
      if (title) title.target = "displayName";
      return users;
    });
    expect(issuesOf(config).map((issue) => [issue.path.join("."), issue.message])).toEqual([
      ["users.attributeMappings.7.target", '"displayName" is already the target of mapping 6'],
      [
        "users.attributeMappings",
        'at least one attribute must be marked "Match objects using this attribute" (matchingPriority ≥ 1)',
      ],
    ]);
    const duplicatePrecedence = withUsers(valid, (users) => {
      const mail = users.attributeMappings.find((mapping) => mapping.source === "mail");
      if (mail) mail.matchingPriority = 1;
      return users;
    });
    expect(issuesOf(duplicatePrecedence).map((issue) => issue.message)).toEqual([
      "matching precedence 1 is already used by mapping 1",
    ]);
  });

  test("bad target paths, Direct sources and scoping clauses are rejected", () => {
    const config = withUsers(valid, (users) => {
      const [first, second] = users.attributeMappings;
      if (first) first.source = "[userPrincipalName]";
      if (second) second.target = "emails[type = work]";
      users.scope = {
        groups: [
          {
            name: "Bad",
            clauses: [
              { operatorName: "Equals", sourceOperandName: "department", targetOperand: { values: ["x"] } },
            ],
          },
        ],
      };
      return users;
    });
    expect(issuesOf(config).map((issue) => issue.path.join("."))).toEqual([
      "users.attributeMappings.0.source",
      "users.attributeMappings.1.target",
      "users.scope.groups.0.clauses.0",
    ]);
    expect(issuesOf(config)[2]?.message).toMatch(
      /^Scoping filter 1 \("Bad"\), clause 1 on department: unknown operator "Equals" \(Entra spells it "EQUALS"\)/,
    );
  });
});

describe("Entra provisioning schema JSON", () => {
  const entraUserMapping = {
    enabled: true,
    flowTypes: "Add,Update",
    name: "Synchronize Microsoft Entra users to Dialpad",
    sourceObjectName: "User",
    targetObjectName: "User",
    metadata: [],
    attributeMappings: [
      {
        defaultValue: null,
        exportMissingReferences: false,
        flowBehavior: "FlowWhenChanged",
        flowType: "Always",
        matchingPriority: 1,
        source: {
          expression: "[userPrincipalName]",
          name: "userPrincipalName",
          type: "Attribute",
          parameters: [],
        },
        targetAttributeName: "userName",
      },
      {
        defaultValue: null,
        exportMissingReferences: false,
        flowBehavior: "FlowWhenChanged",
        flowType: "Always",
        matchingPriority: 0,
        source: {
          expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
          name: "Switch",
          type: "Function",
          parameters: [
            {
              key: "source",
              value: {
                expression: "[IsSoftDeleted]",
                name: "IsSoftDeleted",
                type: "Attribute",
                parameters: [],
              },
            },
            {
              key: "switchValue",
              value: { expression: '"False"', name: "False", type: "Constant", parameters: [] },
            },
            {
              key: "switchValue",
              value: { expression: '"True"', name: "True", type: "Constant", parameters: [] },
            },
            {
              key: "switchValue",
              value: { expression: '"True"', name: "True", type: "Constant", parameters: [] },
            },
            {
              key: "switchValue",
              value: { expression: '"False"', name: "False", type: "Constant", parameters: [] },
            },
          ],
        },
        targetAttributeName: "active",
      },
      {
        defaultValue: "Unknown",
        exportMissingReferences: false,
        flowBehavior: "FlowWhenChanged",
        flowType: "ObjectAddOnly",
        matchingPriority: 0,
        source: {
          expression: '"Dialpad_Ai Voice"',
          name: "Dialpad_Ai Voice",
          type: "Constant",
          parameters: [],
        },
        targetAttributeName: "urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User:licenseType",
      },
    ],
    scope: {
      groups: [
        {
          name: "Sales",
          clauses: [
            { operatorName: "EQUALS", sourceOperandName: "department", targetOperand: { values: ["Sales"] } },
          ],
        },
      ],
      inputFilterGroups: [],
      categoryFilterGroups: [],
    },
  };
  const entraGroupMapping = {
    enabled: false,
    flowTypes: "Add,Update,Delete",
    name: "Synchronize Microsoft Entra groups to Dialpad",
    sourceObjectName: "Group",
    targetObjectName: "Group",
    metadata: [],
    attributeMappings: [
      {
        defaultValue: null,
        exportMissingReferences: false,
        flowBehavior: "FlowWhenChanged",
        flowType: "Always",
        matchingPriority: 1,
        source: { expression: "[displayName]", name: "displayName", type: "Attribute", parameters: [] },
        targetAttributeName: "displayName",
      },
    ],
    scope: null,
  };
  const document = {
    synchronizationRules: [
      {
        name: "USER_OUTBOUND_USER",
        sourceDirectoryName: "Azure Active Directory",
        targetDirectoryName: "customappsso",
        objectMappings: [entraUserMapping, entraGroupMapping],
      },
    ],
  };

  test("import reads object mappings, flow types, create-only, defaults, matching and scope", () => {
    const result = importEntraSchema(document);
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    expect(result.data.users.actions).toEqual({ create: true, update: true, delete: false });
    expect(
      result.data.users.attributeMappings.map((mapping) => [
        mapping.type,
        mapping.source,
        mapping.target,
        mapping.apply,
        mapping.matchingPriority,
        mapping.defaultValue,
      ]),
    ).toEqual([
      ["Direct", "userPrincipalName", "userName", "Always", 1, null],
      [
        "Expression",
        'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
        "active",
        "Always",
        0,
        null,
      ],
      [
        "Constant",
        "Dialpad_Ai Voice",
        "urn:ietf:params:scim:schemas:extension:Dialpad:2.0:User:licenseType",
        "OnlyDuringCreation",
        0,
        "Unknown",
      ],
    ]);
    expect(result.data.users.scope?.groups[0]?.clauses[0]?.operatorName).toBe("EQUALS");
    expect(result.data.groups.enabled).toBe(false);
  });

  test("Entra JSON → import → export gives the same JSON back", () => {
    const result = importEntraSchema(document);
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    expect(exportEntraSchema(result.data)).toEqual(document);
  });

  test("our configuration → export → import gives the same configuration back (descriptions aside)", () => {
    const config = defaultDialpadMapping();
    const result = importEntraSchema(JSON.parse(JSON.stringify(exportEntraSchema(config))));
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    const withoutDescriptions = (value: TMappingConfig) =>
      JSON.parse(
        JSON.stringify(value, (key, inner: unknown) => (key === "description" ? undefined : inner)),
      ) as unknown;
    expect(withoutDescriptions(result.data)).toEqual(withoutDescriptions(config));
  });

  test("re-importing an unchanged export keeps every description and case-exact setting", () => {
    const config = defaultDialpadMapping();
    const title = config.users.attributeMappings.find((mapping) => mapping.target === "title");
    if (!title) throw new Error("the default mapping has no title");
    title.description = "Shown on the Dialpad contact card";
    title.caseExact = true;
    const described = config.users.attributeMappings.filter((mapping) => mapping.description).length;
    expect(described).toBeGreaterThan(1);
    const result = importEntraSchema(JSON.parse(JSON.stringify(exportEntraSchema(config))));
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    expect(keepFieldsTheSchemaLacks(result.data, config)).toEqual(config);
  });

  test("an imported mapping for a new target gets no description; a changed source keeps its target's", () => {
    const config = defaultDialpadMapping();
    const exported = exportEntraSchema(config);
    const users = exported.synchronizationRules[0]?.objectMappings[0];
    const title = users?.attributeMappings.find((mapping) => mapping.targetAttributeName === "title");
    if (!users || !title) throw new Error("the export has no title mapping");
    title.source = { expression: "[department]", name: "department", type: "Attribute", parameters: [] };
    users.attributeMappings.push({
      ...title,
      targetAttributeName: "nickName",
      source: { expression: "[mailNickname]", name: "mailNickname", type: "Attribute", parameters: [] },
    });
    const result = importEntraSchema(JSON.parse(JSON.stringify(exported)));
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    const merged = keepFieldsTheSchemaLacks(result.data, config);
    const find = (target: string) =>
      merged.users.attributeMappings.find((mapping) => mapping.target === target);
    expect(find("title")).toMatchObject({
      source: "department",
      description: config.users.attributeMappings.find((mapping) => mapping.target === "title")?.description,
    });
    expect(find("nickName")?.description).toBeUndefined();
  });

  test("an invalid import names the JSON path of the problem", () => {
    const broken = structuredClone(document);
    const mapping = broken.synchronizationRules[0]?.objectMappings[0]?.attributeMappings[1];
    if (mapping?.source) mapping.source.expression = "Switch([IsSoftDeleted], ";
    const result = importEntraSchema(broken);
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(result.issues[0]?.path).toEqual([
        "synchronizationRules",
        0,
        "objectMappings",
        0,
        "attributeMappings",
        1,
        "source",
      ]);
      expect(result.issues[0]?.message).toMatch(/Unclosed \( .*offset 6\)/);
    }
    expect(importEntraSchema({ synchronizationRules: [] }).success).toBe(false);
  });
});
