import { describe, expect, test } from "vitest";
import { ExpressionSyntaxError, parseExpression, printExpression } from "./index";

function syntaxError(source: string): ExpressionSyntaxError {
  try {
    parseExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error for ${source}`);
}

describe("parseExpression builds the AST", () => {
  test("nested calls, attributes, strings with escapes, numbers, empty arguments", () => {
    const ast = parseExpression(
      'Coalesce([IsSoftDeleted], , "say \\"hi\\" \\\\", 1, -10, &HF, vbTextCompare)',
    );
    expect(ast).toMatchObject({
      kind: "call",
      name: "Coalesce",
      args: [
        { kind: "attribute", name: "IsSoftDeleted" },
        { kind: "omitted" },
        { kind: "string", value: 'say "hi" \\' },
        { kind: "number", value: 1 },
        { kind: "number", value: -10 },
        { kind: "number", value: 15 },
        { kind: "constant", name: "vbTextCompare", value: 1 },
      ],
    });
  });

  test("comparisons inside IIF and trailing empty arguments", () => {
    expect(parseExpression('IIF([country]="USA", "a", "b")')).toMatchObject({
      args: [
        { kind: "comparison", operator: "=", left: { name: "country" }, right: { value: "USA" } },
        {},
        {},
      ],
    });
    expect(parseExpression('Replace([mail], "@contoso.com", , ,"", ,)')).toMatchObject({
      args: { length: 7 },
    });
  });

  test("multi-line expressions from Microsoft's page parse", () => {
    const source =
      'Switch([Active], , \n  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), \n  "0", "False")';
    expect(parseExpression(source)).toMatchObject({ name: "Switch", args: { length: 6 } });
  });

  test.each([
    'Append([userPrincipalName], ".test")',
    'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
    'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )", , "${phoneNumber}", , )',
    'IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True")',
    'InStr("repEated", "e", 3, vbBinaryCompare)',
  ])("printing %s and parsing it again gives the same tree", (source) => {
    const strip = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value, (key, inner: unknown) => (key === "span" ? undefined : inner)));
    const ast = parseExpression(source);
    expect(strip(parseExpression(printExpression(ast)))).toEqual(strip(ast));
  });
});

describe("malformed expressions fail with a position and what was expected", () => {
  test.each([
    ["", 0, 1, 1, /The expression is empty/],
    ['Append([mail], ".x"', 6, 1, 7, /Unclosed \(/],
    ['Append([mail] ".x")', 14, 1, 15, /Unexpected "\\"" in the argument list/],
    ["Append([mail, 1)", 7, 1, 8, /Unterminated attribute name/],
    ['Append([mail], "abc)', 15, 1, 16, /Unterminated string/],
    [
      'append([mail], "x")',
      0,
      1,
      1,
      /Unknown function append \(function names are case-sensitive; did you mean Append\?\)/,
    ],
    ['Apend([mail], "x")', 0, 1, 1, /did you mean Append/],
    ["Frobnicate([mail])", 0, 1, 1, /^Unknown function Frobnicate \(line 1/],
    ['Append([mail], ".x"))', 20, 1, 21, /Unexpected "\)" after the end of the expression/],
    ["Append(mail, 1)", 7, 1, 8, /Unknown name mail: attributes go in square brackets/],
    ['Join(",",\n  [a],\n  @)', 19, 3, 3, /Unexpected "@"/],
    ["Append([])", 7, 1, 8, /Empty attribute name/],
    ['IIF([a]="x"="y", 1, 2)', 11, 1, 12, /cannot be chained/],
    ["ToLower", 7, 1, 8, /must be followed by its arguments/],
    ['Join(",", SelectUniqueValue([a], [b]))', 10, 1, 11, /SelectUniqueValue must be the outermost function/],
  ])("%j fails at offset %i (line %i, column %i)", (source, offset, line, column, message) => {
    const error = syntaxError(source);
    expect(error.position).toEqual({ offset, line, column });
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`line ${line}, column ${column}`);
  });

  test("an unexpected token lists what would have been accepted", () => {
    expect(syntaxError("").expected).toContain("an [attribute]");
    expect(syntaxError("Append(@)").expected).toEqual([
      "a function call such as Append(...)",
      "an [attribute]",
      'a "string"',
      "a number",
    ]);
    expect(syntaxError('Append([a] "b")').expected).toEqual(['","', '")"']);
  });

  test.each([
    ["Append([mail])", /Append takes 2 arguments but was given 1: Append\(source, suffix\)/],
    ['Mid("a", 1)', /Mid takes 3 arguments but was given 2: Mid\(source, start, length\)/],
    [
      'Switch([a], "d", "k", "v", "k2")',
      /Switch: keys and values must come in pairs .*: Switch\(source, defaultValue, key1, value1, key2, value2, …\)/,
    ],
    ["Guid(1)", /Guid takes 0 arguments but was given 1: Guid\(\)/],
    ["SelectUniqueValue([a])", /SelectUniqueValue takes at least 2 arguments but was given 1/],
    ['FormatDateTime([a], "x")', /FormatDateTime takes 3 to 4 arguments but was given 2/],
    [
      'Replace([a], "b", "c")',
      /Replace takes 7 arguments but was given 3: Replace\(source, oldValue, regexPattern/,
    ],
  ])("wrong argument count: %s", (source, message) => {
    const error = syntaxError(source);
    expect(error.message).toMatch(message);
    expect(error.position.offset).toBe(0);
  });

  test("expressions longer than 10,000 characters are rejected at the limit", () => {
    const source = `Append([a], "${"x".repeat(10_000)}")`;
    const error = syntaxError(source);
    expect(error.position.offset).toBe(10_000);
    expect(error.message).toMatch(/at most 10,000/);
    expect(() => parseExpression(`Append([a], "${"x".repeat(9_000)}")`)).not.toThrow();
  });

  test("deep nesting is refused instead of overflowing the stack", () => {
    const source = `${"ToLower(".repeat(200)}[a]${")".repeat(200)}`;
    expect(syntaxError(source).message).toMatch(/nested more than 64 levels/);
  });
});
