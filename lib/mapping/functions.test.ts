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
      "Len",
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

/** Microsoft's NormalizeDiacritics table, row by row as published (combining sequences included). */
const NORMALIZE_DIACRITICS_TABLE: readonly [string, string][] = [
  ["ä, à, â, ã, å, á, ą, ă, ā, ā́, ā̀, ā̂, ā̃, ǟ, ā̈, ǡ, a̱, å̄", "a"],
  ["Ä, À, Â, Ã, Å, Á, Ą, Ă, Ā, Ā́, Ā̀, Ā̂, Ā̃, Ǟ, Ā̈, Ǡ, A̱, Å̄", "A"],
  ["æ, ǣ", "ae"],
  ["Æ, Ǣ", "AE"],
  ["ç, č, ć, c̄, c̱", "c"],
  ["Ç, Č, Ć, C̄, C̱", "C"],
  ["ď, d̄, ḏ", "d"],
  ["Ď, D̄, Ḏ", "D"],
  ["ë, è, é, ê, ę, ě, ė, ē, ḗ, ḕ, ē̂, ē̃, ê̄, e̱, ë̄, e̊̄", "e"],
  ["Ë, È, É, Ê, Ę, Ě, Ė, Ē, Ḗ, Ḕ, Ē̂, Ē̃, Ê̄, E̱, Ë̄, E̊̄", "E"],
  ["ğ, ḡ, g̱", "g"],
  ["Ğ, Ḡ, G̱", "G"],
  ["ï, î, ì, í, ı, ī, ī́, ī̀, ī̂, ī̃, i̱", "i"],
  ["Ï, Î, Ì, Í, İ, Ī, Ī́, Ī̀, Ī̂, Ī̃, I̱", "I"],
  ["ľ, ł, l̄, ḹ, ḻ", "l"],
  ["Ł, Ľ, L̄, Ḹ, Ḻ", "L"],
  ["ñ, ń, ň, n̄, ṉ", "n"],
  ["Ñ, Ń, Ň, N̄, Ṉ", "N"],
  ["ö, ò, ő, õ, ô, ó, ō, ṓ, ṑ, ō̂, ō̃, ȫ, ō̈, ǭ, ȭ, ȱ, o̱", "o"],
  ["Ö, Ò, Ő, Õ, Ô, Ó, Ō, Ṓ, Ṑ, Ō̂, Ō̃, Ȫ, Ō̈, Ǭ, Ȭ, Ȱ, O̱", "O"],
  ["ø, ø̄, œ̄", "oe"],
  ["Ø, Ø̄, Œ̄", "OE"],
  ["ř, r̄, ṟ, ṝ", "r"],
  ["Ř, R̄, Ṟ, Ṝ", "R"],
  ["ß", "ss"],
  ["š, ś, ș, ş, s̄, s̱", "s"],
  ["Š, Ś, Ș, Ş, S̄, S̱", "S"],
  ["ť, ț, t̄, ṯ", "t"],
  ["Ť, Ț, T̄, Ṯ", "T"],
  ["ü, ù, û, ú, ů, ű, ū, ū́, ū̀, ū̂, ū̃, u̇̄, ǖ, ṻ, ṳ̄, u̱", "u"],
  ["Ü, Ù, Û, Ú, Ů, Ű, Ū, Ū́, Ū̀, Ū̂, Ū̃, U̇̄, Ǖ, Ṻ, Ṳ̄, U̱", "U"],
  ["ÿ, ý, ȳ, ȳ́, ȳ̀, ȳ̃, y̱", "y"],
  ["Ÿ, Ý, Ȳ, Ȳ́, Ȳ̀, Ȳ̃, Y̱", "Y"],
  ["ź, ž, ż, z̄, ẕ", "z"],
  ["Ź, Ž, Ż, Z̄, Ẕ", "Z"],
];

describe("Microsoft's documented examples that are not a single input/output pair", () => {
  test("Microsoft's examples stay in the golden table (removing one fails here)", () => {
    const fromMicrosoft = new Map<string, number>();
    for (const spec of FUNCTION_REGISTRY.values()) {
      fromMicrosoft.set(spec.name, spec.examples.filter((example) => example.origin === "Microsoft").length);
    }
    // Minimums counted from Microsoft's reference page (ms.date 08/06/2024), including its "Examples" section.
    const minimums: Record<string, number> = {
      Append: 2,
      BitAnd: 1,
      CBool: 1,
      CDate: 3,
      Coalesce: 1,
      ConvertToBase64: 1,
      ConvertToUTF8Hex: 1,
      CStr: 1,
      DateAdd: 5,
      DateDiff: 13,
      DateFromNum: 2,
      FormatDateTime: 1,
      IgnoreFlowIfNullOrEmpty: 2,
      IIF: 8,
      InStr: 2,
      IsNull: 1,
      IsNullOrEmpty: 2,
      IsPresent: 1,
      Item: 1,
      Join: 2,
      Left: 1,
      Mid: 1,
      NormalizeDiacritics: 1,
      Now: 1,
      NumFromDate: 2,
      PCase: 2,
      Redact: 2,
      RemoveDuplicates: 1,
      Replace: 9,
      Split: 1,
      StripSpaces: 1,
      Switch: 7,
      Word: 2,
    };
    for (const [name, minimum] of Object.entries(minimums)) {
      expect(fromMicrosoft.get(name) ?? 0, name).toBeGreaterThanOrEqual(minimum);
    }
  });

  test.each(
    NORMALIZE_DIACRITICS_TABLE.flatMap(([characters, plain]) =>
      characters.split(", ").map((character) => [character, plain] as const),
    ),
  )("NormalizeDiacritics(%j) gives %j, per Microsoft's table", (character, plain) => {
    expect(evaluateExpression("NormalizeDiacritics([name])", { name: character })).toBe(plain);
  });

  test('string constants escape " and \\ with a backslash, as the syntax overview shows', () => {
    expect(evaluateExpression('Append("Company name: \\"Contoso\\"", "")', {})).toBe(
      'Company name: "Contoso"',
    );
  });

  test('Microsoft writes "switch(" in one caution; function names are case-sensitive, so it is refused', () => {
    expect(() => evaluateExpression('switch([companyName], "External", "Company A", "A")', {})).toThrow(
      /Unknown function switch .*did you mean Switch\?/,
    );
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
    ["Len([missing])", {}, null],
    ["Len([displayName])", { displayName: "Ann 😀" }, 6],
    ["Len([accountEnabled])", { accountEnabled: false }, 5],
    ["Len(CStr([employeeNumber]))", { employeeNumber: 1234 }, 4],
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

  describe("SelectUniqueValue, Microsoft's UPN example with its three rules", () => {
    const expression = `SelectUniqueValue(
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )`;
    const source = { PreferredFirstName: "John", PreferredLastName: "Smith" };

    test.each([
      [[], "John.Smith@contoso.com"],
      [["John.Smith@contoso.com"], "J.Smith@contoso.com"],
      [["John.Smith@contoso.com", "J.Smith@contoso.com"], "Jo.Smith@contoso.com"],
    ])("with %j taken it returns %s", (taken, expected) => {
      expect(
        evaluateExpression(expression, source, { isUniqueValue: (value) => !taken.includes(value) }),
      ).toBe(expected);
    });

    test("when every candidate exists the object is escrowed (the evaluation fails)", () => {
      expect(() => evaluateExpression(expression, source, { isUniqueValue: () => false })).toThrow(
        /every candidate value already exists/,
      );
    });

    test("without a uniqueness check (every SCIM app) it explains that Entra does not support it", () => {
      expect(() => evaluateExpression(expression, source)).toThrow(/only for Workday/);
    });
  });

  test("Redact(RandomString(6,3,0,0,3)), Microsoft's third Redact example, flows the value and hides it", () => {
    const result = evaluate("Redact(RandomString(6,3,0,0,3))", {}, { random: seededRandom(3) });
    expect(result.value).toMatch(/^[0-9a-z]{6}$/);
    expect(result.redacted).toBe(true);
    expect(result.trace.every((step) => step.value === "[Redact]")).toBe(true);
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
