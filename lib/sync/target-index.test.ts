import { describe, expect, test } from "vitest";
import {
  compactResource,
  normaliseCandidate,
  resourceActive,
  snapshotKeys,
  type MatchingCandidate,
  type SnapshotKey,
} from "./target-index";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

describe("snapshotKeys", () => {
  const golden: [string, "User" | "Group", Record<string, unknown>, SnapshotKey[]][] = [
    [
      "a Dialpad user: userName and e-mails folded, id and externalId exact",
      "User",
      {
        id: "5100000000000001",
        externalId: "ABC-def",
        userName: "Zoë.Ångström@Contoso.example",
        emails: [
          { primary: true, type: "Work", value: "Zoe@Contoso.example" },
          { type: "home", value: "zoe@home.example" },
        ],
        groups: [{ value: "6100000000000001" }],
      },
      [
        { attribute: "id", value: "5100000000000001" },
        { attribute: "externalId", value: "ABC-def" },
        { attribute: "userName", value: "zoë.ångström@contoso.example" },
        { attribute: "emails.value", value: "zoe@contoso.example" },
        { attribute: 'emails[type eq "work"].value', value: "zoe@contoso.example" },
        { attribute: "emails.value", value: "zoe@home.example" },
        { attribute: 'emails[type eq "home"].value', value: "zoe@home.example" },
      ],
    ],
    [
      "attribute names in another case, an e-mail without type, the same address twice, empty values",
      "User",
      {
        ID: "42",
        UserName: "A@B.example",
        externalId: "",
        Emails: [{ value: "A@B.example" }, { type: "work", value: "a@b.EXAMPLE" }, { type: "work" }, "x"],
      },
      [
        { attribute: "id", value: "42" },
        { attribute: "userName", value: "a@b.example" },
        { attribute: "emails.value", value: "a@b.example" },
        { attribute: 'emails[type eq "work"].value', value: "a@b.example" },
      ],
    ],
    [
      "a group: displayName folded, externalId exact, members not keys",
      "Group",
      {
        id: "6100000000000007",
        displayName: "Sales EMEA",
        externalId: "Group-7",
        members: [{ value: "5100000000000001" }],
        userName: "not a group attribute",
      },
      [
        { attribute: "id", value: "6100000000000007" },
        { attribute: "externalId", value: "Group-7" },
        { attribute: "displayName", value: "sales emea" },
      ],
    ],
  ];
  test.each(golden)("%s", (_name, resourceType, resource, keys) => {
    expect(snapshotKeys(resourceType, resource)).toEqual(keys);
  });
});

describe("normaliseCandidate", () => {
  const user = (targetAttribute: string, value: string) =>
    normaliseCandidate("User", { targetAttribute, value });
  test("folds the case of caseExact-false attributes only", () => {
    expect(user("userName", "Zoë@Contoso.example")).toEqual({
      attribute: "userName",
      value: "zoë@contoso.example",
    });
    expect(user("externalId", "ABC")).toEqual({ attribute: "externalId", value: "ABC" });
    expect(user("id", "5100000000000001")).toEqual({ attribute: "id", value: "5100000000000001" });
    expect(normaliseCandidate("Group", { targetAttribute: "displayName", value: "Sales EMEA" })).toEqual({
      attribute: "displayName",
      value: "sales emea",
    });
  });

  test("accepts the spellings a mapping can use for the same attribute", () => {
    expect(user("urn:ietf:params:scim:schemas:core:2.0:User:UserName", "X@Y.example")).toEqual({
      attribute: "userName",
      value: "x@y.example",
    });
    expect(user('emails[type eq "Work"].value', "X@Y.example")).toEqual({
      attribute: 'emails[type eq "work"].value',
      value: "x@y.example",
    });
    expect(user("emails.value", "X@Y.example")).toEqual({ attribute: "emails.value", value: "x@y.example" });
  });

  test("candidate keys meet resource keys exactly when the target's filter would match", () => {
    const resource = {
      id: "1",
      userName: "zoë@contoso.example",
      externalId: "abc",
      emails: [{ type: "work", value: "zoe@contoso.example" }],
    };
    const keys = new Set(snapshotKeys("User", resource).map((key) => `${key.attribute}=${key.value}`));
    const hits = (candidate: MatchingCandidate) => {
      const key = normaliseCandidate("User", candidate);
      return key !== null && keys.has(`${key.attribute}=${key.value}`);
    };
    expect(hits({ targetAttribute: "userName", value: "Zoë@Contoso.example" })).toBe(true);
    expect(hits({ targetAttribute: "externalId", value: "ABC" })).toBe(false);
    expect(hits({ targetAttribute: "externalId", value: "abc" })).toBe(true);
    expect(hits({ targetAttribute: 'emails[type eq "work"].value', value: "ZOE@contoso.example" })).toBe(
      true,
    );
    expect(hits({ targetAttribute: 'emails[type eq "home"].value', value: "zoe@contoso.example" })).toBe(
      false,
    );
  });

  test("attributes the snapshot does not index are null, so the engine falls back to a filter query", () => {
    expect(user(`${ENTERPRISE}:employeeNumber`, "123")).toBeNull();
    expect(user("displayName", "Zoë")).toBeNull();
    expect(user('emails[primary eq "True"].value', "a@b.example")).toBeNull();
    expect(user("name.familyName", "Ångström")).toBeNull();
    expect(user("not a path!", "x")).toBeNull();
    expect(user("userName", "")).toBeNull();
    expect(normaliseCandidate("Group", { targetAttribute: "userName", value: "x" })).toBeNull();
  });
});

test("compactResource drops members and groups; resourceActive reads Boolean and string forms", () => {
  expect(compactResource({ id: "1", displayName: "G", Members: [{ value: "2" }] })).toEqual({
    id: "1",
    displayName: "G",
  });
  expect(compactResource({ id: "1", userName: "u", groups: [{ value: "6" }], active: false })).toEqual({
    id: "1",
    userName: "u",
    active: false,
  });
  expect(resourceActive("User", { active: "False" })).toBe(false);
  expect(resourceActive("User", { active: true })).toBe(true);
  expect(resourceActive("User", {})).toBe(true);
  expect(resourceActive("Group", { active: false })).toBeNull();
});
