import { describe, expect, test } from "vitest";
import { ENTERPRISE_USER_SCHEMA } from "../mapping";
import { ScimError } from "../scim";
import {
  attributeKey,
  attributesNamedIn,
  isAttributeRefusal,
  mappingsWithout,
  operationsWithout,
  resourceWithout,
} from "./refusals";

const OFFICE = `${ENTERPRISE_USER_SCHEMA}:officeName`;

function scimError(status: number, scimType: string | undefined, detail: string) {
  return new ScimError({
    code: "BadRequest",
    detail,
    status,
    scimType,
    retryable: false,
    request: { method: "PATCH", url: "https://dialpad.example/scim/Users/1" },
  });
}

describe("attributesNamedIn: which sent attributes a target's 400 names", () => {
  const sent = [OFFICE, "title", "name.givenName", "name.familyName", 'emails[type eq "work"].value'];
  test.each([
    [`The path '${OFFICE}' names an attribute this server does not support`, [OFFICE]],
    ["Attribute 'officeName' is not supported", [OFFICE]],
    ["The path 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName' is unknown", ["name.givenName"]],
    ["title: value too long", ["title"]],
    ["subtitle is not supported", []],
    ["Request is invalid", []],
    ['emails[type eq "work"].value must be unique', ['emails[type eq "work"].value']],
  ])("%s", (detail, expected) => {
    expect(attributesNamedIn(detail, sent)).toEqual(expected);
  });
});

describe("isAttributeRefusal", () => {
  test.each([
    [scimError(400, "invalidPath", "x"), true],
    [scimError(400, "invalidValue", "x"), true],
    [scimError(400, "mutability", "x"), true],
    [scimError(400, "noTarget", "x"), true],
    [scimError(400, "uniqueness", "x"), false],
    [scimError(400, "invalidFilter", "x"), false],
    [scimError(400, undefined, "Unknown attribute officeName"), true],
    [scimError(400, undefined, "Bad request"), false],
    [scimError(500, "invalidPath", "x"), false],
    [new Error("invalidPath"), false],
  ])("%s → %s", (error, expected) => {
    expect(isAttributeRefusal(error)).toBe(expected);
  });
});

describe("leaving refused attributes out", () => {
  const refused = (attribute: string) => attributeKey(attribute) === attributeKey(OFFICE);

  test("PATCH operations keep active and everything not refused", () => {
    const operations = [
      { op: "Replace" as const, path: "active", value: false },
      { op: "Replace" as const, path: OFFICE, value: "HQ" },
      { op: "Replace" as const, path: "title", value: "CEO" },
    ];
    const { kept, leftOut } = operationsWithout(operations, refused);
    expect(kept.map((operation) => operation.path)).toEqual(["active", "title"]);
    expect(leftOut.map((operation) => operation.path)).toEqual([OFFICE]);
    expect(operationsWithout(operations, () => true).kept.map((operation) => operation.path)).toEqual([
      "active",
    ]);
  });

  test("mappings keep matching attributes and active even when refused", () => {
    const mappings = [
      { target: "userName", matchingPriority: 1 },
      { target: "active", matchingPriority: 0 },
      { target: OFFICE.toLowerCase(), matchingPriority: 0 },
      { target: "title", matchingPriority: 0 },
    ];
    expect(mappingsWithout(mappings, refused).map((mapping) => mapping.target)).toEqual([
      "userName",
      "active",
      "title",
    ]);
    expect(mappingsWithout(mappings, () => true).map((mapping) => mapping.target)).toEqual([
      "userName",
      "active",
    ]);
  });

  test("a POST body loses the refused core, sub-, extension and filtered attributes only", () => {
    const resource = {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_SCHEMA],
      userName: "a@contoso.example",
      title: "CEO",
      name: { givenName: "Ada", familyName: "Lovelace" },
      emails: [
        { type: "work", value: "a@contoso.example", primary: true },
        { type: "home", value: "a@home.example" },
      ],
      [ENTERPRISE_USER_SCHEMA]: { officeName: "HQ", department: "R&D" },
    };
    expect(
      resourceWithout(resource, [OFFICE, "Title", "name.givenName", 'emails[type eq "home"].value']),
    ).toEqual({
      schemas: resource.schemas,
      userName: "a@contoso.example",
      name: { familyName: "Lovelace" },
      emails: [{ type: "work", value: "a@contoso.example", primary: true }],
      [ENTERPRISE_USER_SCHEMA]: { department: "R&D" },
    });
    expect(resource.title).toBe("CEO");
  });
});
