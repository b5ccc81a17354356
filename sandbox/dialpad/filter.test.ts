import { describe, expect, test } from "vitest";
import { ScimError } from "./errors";
import { matches, parseFilter, parsePath } from "./filter";

const caseExact = (name: string) => name === "externalid" || name === "id";

function scimTypeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ScimError) return `${error.status} ${error.scimType}`;
    throw error;
  }
  return undefined;
}

describe("filter parser", () => {
  test("parses eq with escaped quotes and backslashes as JSON strings", () => {
    const f = parseFilter('userName eq "o\\"brien\\\\x@example.com"');
    expect(f).toEqual({ op: "eq", path: { attr: "userName" }, value: 'o"brien\\x@example.com' });
  });

  test("operators and attribute names are case-insensitive, and chains of and nest left", () => {
    const f = parseFilter('USERNAME EQ "a" AND externalId Eq "b" and (id eq "c")');
    expect(f.op).toBe("and");
    const user = { userName: "A", externalId: "b", id: "c" };
    expect(matches(f, user, caseExact)).toBe(true);
    expect(matches(f, { ...user, externalId: "B" }, caseExact)).toBe(false);
  });

  test("value filters in attribute paths select the typed element", () => {
    const f = parseFilter('emails[type eq "work"].value eq "w@x.com"');
    expect(matches(f, { emails: [{ type: "home", value: "w@x.com" }] }, caseExact)).toBe(false);
    expect(matches(f, { emails: [{ type: "Work", value: "W@X.com" }] }, caseExact)).toBe(true);
  });

  test("schema-qualified names resolve to the core attribute", () => {
    const f = parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@x"');
    expect(f).toEqual({ op: "eq", path: { attr: "userName" }, value: "a@x" });
  });

  test.each([
    ['userName co "a"', "co"],
    ['userName eq "a" or userName eq "b"', "or"],
    ['not (userName eq "a")', "not"],
    ["userName pr", "pr"],
    ["externalId eq jyoung", "unquoted"],
    ['userName eq "unterminated', "unterminated"],
    ['userName eq "a" garbage', "trailing"],
    ["", "empty"],
    ['emails[type eq "work" .value eq "x"', "bracket"],
  ])("%s is rejected with 400 invalidFilter (%s)", (src) => {
    expect(scimTypeOf(() => parseFilter(src))).toBe("400 invalidFilter");
  });

  test("PATCH paths parse enterprise URNs, sub-attributes and value filters", () => {
    expect(parsePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")).toEqual({
      schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
      attr: "department",
    });
    expect(parsePath("name.givenName")).toEqual({ attr: "name", sub: "givenName" });
    expect(parsePath('addresses[type eq "work"].country')).toMatchObject({
      attr: "addresses",
      sub: "country",
    });
    expect(scimTypeOf(() => parsePath("urn:example:unknown:attr"))).toBe("400 invalidPath");
  });
});
