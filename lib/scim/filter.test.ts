import { describe, expect, test } from "vitest";
import { and, eq } from "./filter";

describe("SCIM filter builders", () => {
  test.each([
    ["plain value", "userName", "ada@contoso.example", 'userName eq "ada@contoso.example"'],
    ["double quote is escaped", "displayName", 'Sales "EMEA"', 'displayName eq "Sales \\"EMEA\\""'],
    ["backslash is escaped", "externalId", "CONTOSO\\ada", 'externalId eq "CONTOSO\\\\ada"'],
    ["quote after backslash", "displayName", 'a\\"b', 'displayName eq "a\\\\\\"b"'],
    [
      "operator words stay inside the string",
      "userName",
      'x" or userName pr or "',
      'userName eq "x\\" or userName pr or \\""',
    ],
    ["newline is encoded, not sent raw", "displayName", "two\nlines", 'displayName eq "two\\nlines"'],
    ["non-ASCII kept as is", "displayName", "Zoë Ørsted", 'displayName eq "Zoë Ørsted"'],
    ["sub-attribute", "name.familyName", "O'Brien", 'name.familyName eq "O\'Brien"'],
    [
      "URN-qualified attribute",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
      "42",
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"',
    ],
  ])("%s", (_name, attribute, value, expected) => {
    expect(eq(attribute, value).expression).toBe(expected);
  });

  test("booleans, numbers and null are SCIM literals, not strings", () => {
    expect(eq("active", true).expression).toBe("active eq true");
    expect(eq("meta.version", 3).expression).toBe("meta.version eq 3");
    expect(eq("title", null).expression).toBe("title eq null");
  });

  test.each([["userName or 1 eq 1"], ['userName"'], [""], ['emails[type eq "work"].value'], ["1abc"]])(
    "rejects attribute %j",
    (attribute) => {
      expect(() => eq(attribute, "x")).toThrow(TypeError);
    },
  );

  test("rejects non-finite numbers", () => {
    expect(() => eq("meta.version", Number.NaN)).toThrow(TypeError);
  });

  test("and() joins clauses the way Entra sends them", () => {
    expect(and(eq("userName", "a"), eq("externalId", 'b"c')).expression).toBe(
      'userName eq "a" and externalId eq "b\\"c"',
    );
    expect(and(and(eq("a", 1), eq("b", 2)), eq("c", 3)).expression).toBe("a eq 1 and b eq 2 and c eq 3");
    expect(() => and()).toThrow(TypeError);
  });
});
