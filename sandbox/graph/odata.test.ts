import { describe, expect, test } from "vitest";
import { USER_SPEC } from "./graph-api";
import { GraphRequestError, parseFilter, parseSearch, parseSelect, parseTop } from "./odata";

const zoe = {
  id: "1",
  displayName: "Zoë Ångström",
  givenName: "Zoë",
  surname: "Ångström",
  mail: "zoe@contoso.example",
  accountEnabled: true,
  userPrincipalName: "zoe@contoso.example",
};
const sean = {
  id: "2",
  displayName: "Seán O'Brien",
  givenName: "Seán",
  surname: "O'Brien",
  mail: null,
  accountEnabled: false,
  userPrincipalName: "sean@contoso.example",
};

function errorOf(fn: () => unknown): GraphRequestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GraphRequestError) return error;
    throw error;
  }
  throw new Error("expected a GraphRequestError");
}

describe("$filter", () => {
  test("startswith is case-insensitive and joins with or", () => {
    const p = parseFilter("startswith(displayName,'zo') or startswith(mail,'nobody')", USER_SPEC);
    expect(p(zoe)).toBe(true);
    expect(p(sean)).toBe(false);
  });

  test("a doubled quote inside a literal is one apostrophe", () => {
    expect(parseFilter("surname eq 'O''Brien'", USER_SPEC)(sean)).toBe(true);
  });

  test("accountEnabled eq false, and binds tighter than or", () => {
    expect(parseFilter("accountEnabled eq false", USER_SPEC)(sean)).toBe(true);
    const p = parseFilter(
      "accountEnabled eq true and startswith(givenName,'Se') or surname eq 'Ångström'",
      USER_SPEC,
    );
    expect(p(sean)).toBe(false);
    expect(p(zoe)).toBe(true);
  });

  test("refuses properties Graph cannot filter, unknown properties and bad syntax with Graph's codes", () => {
    expect(errorOf(() => parseFilter("endswith(mail,'x')", USER_SPEC))).toMatchObject({
      status: 400,
      code: "Request_UnsupportedQuery",
    });
    expect(errorOf(() => parseFilter("startswith(businessPhones,'x')", USER_SPEC)).message).toContain(
      "'businessPhones' of resource 'User'",
    );
    expect(errorOf(() => parseFilter("colour eq 'red'", USER_SPEC)).message).toContain(
      "Could not find a property named 'colour'",
    );
    expect(errorOf(() => parseFilter("startswith(displayName,'x'", USER_SPEC))).toMatchObject({
      status: 400,
      code: "BadRequest",
    });
    expect(errorOf(() => parseFilter("displayName eq 'unterminated", USER_SPEC)).message).toContain(
      "unterminated",
    );
  });
});

describe("$search", () => {
  test("matches word prefixes of the named property", () => {
    expect(parseSearch('"displayName:ångs"', USER_SPEC)(zoe)).toBe(true);
    expect(parseSearch('"displayName:brien"', USER_SPEC)(sean)).toBe(true);
    expect(parseSearch('"displayName:rien"', USER_SPEC)(sean)).toBe(false);
    expect(parseSearch('"displayName:zo" OR "displayName:se"', USER_SPEC)(sean)).toBe(true);
  });

  test("requires quoted property:value clauses", () => {
    expect(errorOf(() => parseSearch("displayName:zo", USER_SPEC)).status).toBe(400);
    expect(errorOf(() => parseSearch('"zo"', USER_SPEC)).status).toBe(400);
  });
});

describe("$select and $top", () => {
  test("$select canonicalises names and always includes id", () => {
    expect(parseSelect("DisplayName,department", USER_SPEC)).toEqual(["displayName", "department", "id"]);
    expect(errorOf(() => parseSelect("displayName,shoeSize", USER_SPEC)).message).toContain("shoeSize");
  });

  test("$top must be between 1 and 999", () => {
    expect(parseTop("999")).toBe(999);
    expect(errorOf(() => parseTop("1000")).message).toBe(
      "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    expect(errorOf(() => parseTop("0")).status).toBe(400);
    expect(errorOf(() => parseTop("ten")).status).toBe(400);
  });
});
