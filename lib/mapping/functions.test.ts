import { describe, expect, test } from "vitest";
import { FUNCTION_REGISTRY } from "./functions";
import { ExpressionEvaluationError, evaluate, evaluateExpression } from "./index";

const documented = [...FUNCTION_REGISTRY.values()].flatMap((spec) =>
  spec.examples.map((example) => ({ name: spec.name, ...example })),
);

describe("every function's examples (Microsoft's documented input/output pairs among them)", () => {
  test.each(documented)("$name: $expression", ({ expression, source, output, now }) => {
    expect(evaluateExpression(expression, source ?? {}, { now: now ? new Date(now) : undefined })).toEqual(
      output,
    );
  });

  test("every function Entra documents is implemented and has a documented example or a reason not to", () => {
    const required = [
      "Append",
      "AppRoleAssignmentsComplex",
      "AssertiveAppRoleAssignmentsComplex",
      "BitAnd",
      "CBool",
      "CDate",
      "Coalesce",
      "ConvertToBase64",
      "ConvertToUTF8Hex",
      "Count",
      "CStr",
      "DateAdd",
      "DateDiff",
      "DateFromNum",
      "FormatDateTime",
      "Guid",
      "IgnoreFlowIfNullOrEmpty",
      "IIF",
      "InStr",
      "IsNull",
      "IsNullOrEmpty",
      "IsPresent",
      "IsString",
      "Item",
      "Join",
      "Left",
      "Mid",
      "NormalizeDiacritics",
      "Not",
      "Now",
      "NumFromDate",
      "PCase",
      "RandomString",
      "Redact",
      "RemoveDuplicates",
      "Replace",
      "SelectUniqueValue",
      "SingleAppRoleAssignment",
      "Split",
      "StripSpaces",
      "Switch",
      "ToLower",
      "ToUpper",
      "Word",
    ];
    expect([...FUNCTION_REGISTRY.keys()].sort()).toEqual([...required].sort());
    const withoutExamples = [...FUNCTION_REGISTRY.values()]
      .filter((spec) => spec.examples.length === 0)
      .map((spec) => spec.name);
    expect(withoutExamples.sort()).toEqual(["Guid", "RandomString", "SelectUniqueValue"]);
  });
});

describe("null propagation and multi-valued inputs", () => {
  test.each([
    ['Append([missing], "x")', {}, null],
    ["ToUpper([missing])", {}, null],
    ["Mid([missing], 1, 2)", {}, null],
    ['Join(",", [a], [b])', {}, null],
    ['Join(",", [a], [b])', { a: "", b: "x" }, "x"],
    ['Coalesce([a], "")', { a: null }, ""],
    ["Left([proxyAddresses], 4)", { proxyAddresses: ["SMTP:a", "smtp:b"] }, "SMTP"],
    ["Count([proxyAddresses])", { proxyAddresses: "single" }, 1],
    ["Item([proxyAddresses], 2)", { proxyAddresses: ["a", "b"] }, "b"],
    ["IsNull([mail])", { mail: "" }, false],
    ["IsNullOrEmpty([proxyAddresses])", { proxyAddresses: [] }, true],
    ["CStr([employeeNumber])", { employeeNumber: 1234 }, "1234"],
    ['Switch([accountEnabled], "?", "True", "yes")', { accountEnabled: true }, "yes"],
    ["ToLower([MAIL])", { mail: "A@B.COM" }, "a@b.com"],
  ] as const)("%s with %j gives %j", (expression, source, output) => {
    expect(evaluateExpression(expression, source)).toEqual(output);
  });

  test("IgnoreFlowIfNullOrEmpty anywhere inside an expression drops the whole attribute", () => {
    expect(
      evaluateExpression('Append(IgnoreFlowIfNullOrEmpty([department]), "-x")', { department: null }),
    ).toBeUndefined();
  });

  test("the IIF pitfall is explained in the trace", () => {
    const result = evaluate('IIF([country]="","Other",[country])', { country: "" });
    expect(result.value).toBeNull();
    expect(result.trace[0]?.note).toContain("[country]");
  });
});

describe("trace and Redact", () => {
  test("the trace lists each sub-expression with its value, outermost first", () => {
    const result = evaluate('Append(ToLower([givenName]), ".x")', { givenName: "Ada" });
    expect(result.trace.map((step) => [step.expression, step.depth, step.value])).toEqual([
      ['Append(ToLower([givenName]), ".x")', 0, '"ada.x"'],
      ["ToLower([givenName])", 1, '"ada"'],
      ["[givenName]", 2, '"Ada"'],
      ['".x"', 1, '".x"'],
    ]);
    expect(result.redacted).toBe(false);
  });

  test("Redact keeps the value but hides it and everything inside it from the trace", () => {
    const result = evaluate("Redact([employeeId])", { employeeId: "S3CRET" });
    expect(result.value).toBe("S3CRET");
    expect(result.redacted).toBe(true);
    expect(result.trace.map((step) => step.value)).toEqual(["[Redact]", "[Redact]"]);
  });
});

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("random functions", () => {
  test("Guid() is a version-4 GUID, different each time", () => {
    const first = evaluateExpression("Guid()", {});
    const second = evaluateExpression("Guid()", {});
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first).not.toBe(second);
  });

  test.each([1, 2, 3, 4, 5])('RandomString(10,2,2,2,1,"?,") meets its minimums (seed %i)', (seed) => {
    const value = String(
      evaluateExpression('RandomString(10,2,2,2,1,"?,")', {}, { random: seededRandom(seed) }),
    );
    expect(value).toHaveLength(10);
    expect(value.replace(/[^0-9]/g, "").length).toBeGreaterThanOrEqual(2);
    expect(value.replace(/[^A-Z]/g, "").length).toBeGreaterThanOrEqual(2);
    expect(value.replace(/[^a-z]/g, "").length).toBeGreaterThanOrEqual(1);
    expect(value.replace(/[A-Za-z0-9]/g, "").length).toBeGreaterThanOrEqual(2);
    expect(value).not.toMatch(/[?,]/);
  });

  test("RandomString(6,3,0,0,3) gives 3 digits and 3 lower-case letters", () => {
    const value = String(evaluateExpression("RandomString(6,3,0,0,3)", {}, { random: seededRandom(9) }));
    expect(value.replace(/[^0-9]/g, "")).toHaveLength(3);
    expect(value.replace(/[^a-z]/g, "")).toHaveLength(3);
  });

  test("SelectUniqueValue returns the first candidate the target does not have yet", () => {
    const taken = new Set(["John.Smith@contoso.com"]);
    const expression =
      'SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"), Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"))';
    const source = { PreferredFirstName: "John", PreferredLastName: "Smith" };
    expect(evaluateExpression(expression, source, { isUniqueValue: (value) => !taken.has(value) })).toBe(
      "J.Smith@contoso.com",
    );
    expect(() => evaluateExpression(expression, source)).toThrow(/only for Workday/);
  });
});

describe("evaluation errors are explained, never crashes", () => {
  test.each([
    ['CDate("not a date")', /CDate: expression: "not a date" is not a date\/time string/],
    [
      'FormatDateTime("2015-13-01", , "yyyy-MM-dd", "yyyy")',
      /FormatDateTime: "2015-13-01" is not a valid date/,
    ],
    ['FormatDateTime("20150123", , "yyyy-MM-dd", "yyyy")', /does not match the format "yyyy-MM-dd"/],
    ['DateAdd("q", 1, Now())', /interval must be one of "yyyy", "m", "d", "ww", "h", "n", "s"/],
    ['BitAnd("abc", 1)', /BitAnd: both values must be integers/],
    ['Mid("abc", 0, 1)', /Mid: start must be 1 or more/],
    ['Replace("x", , "(", , "", , )', /Replace: regexPattern "\(": invalid regular expression/],
    ['Replace("x", , "(?<a>x)", "b", "", , )', /no group named "b"/],
    ['CBool("maybe")', /CBool: cannot convert "maybe" to a Boolean/],
    ["DateFromNum(9223372036854775807)", /DateFromNum: the year .* is outside/],
    ["RandomString(300,0,0,0,0)", /Length must be at most 256/],
    ["RandomString(3,2,2,0,0)", /less than the sum of the minimums/],
    ['ToLower("x", "not a culture!")', /not a culture name/],
  ])("%s", (expression, message) => {
    expect(() => evaluateExpression(expression, {}, { now: new Date("2024-01-01T00:00:00Z") })).toThrow(
      ExpressionEvaluationError,
    );
    expect(() => evaluateExpression(expression, {}, { now: new Date("2024-01-01T00:00:00Z") })).toThrow(
      message,
    );
  });

  test("a catastrophic regular expression in Replace fails fast instead of hanging", () => {
    const started = performance.now();
    expect(() =>
      evaluateExpression('Replace([x], , "(a+)+$", , "", , )', { x: `${"a".repeat(40)}!` }),
    ).toThrow(/catastrophic backtracking/);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("regular expressions refuse inputs longer than the cap", () => {
    expect(() => evaluateExpression('Replace([x], , "a", , "b", , )', { x: "a".repeat(5000) })).toThrow(
      /at most 1024/,
    );
  });
});
