import { describe, expect, test } from "vitest";
import { explainExpression } from "./index";

describe("explainExpression, for the mapping editor's live preview", () => {
  test("a valid expression gives the exported value and a trace of every sub-expression", () => {
    const result = explainExpression('Append(ToLower([givenName]), ".x")', { givenName: "Ada" });
    expect(result).toEqual({
      ok: true,
      value: "ada.x",
      flows: true,
      redacted: false,
      trace: [
        expect.objectContaining({
          expression: 'Append(ToLower([givenName]), ".x")',
          depth: 0,
          value: '"ada.x"',
        }),
        expect.objectContaining({ expression: "ToLower([givenName])", depth: 1, value: '"ada"' }),
        expect.objectContaining({ expression: "[givenName]", depth: 2, value: '"Ada"' }),
        expect.objectContaining({ expression: '".x"', depth: 1, value: '".x"' }),
      ],
    });
  });

  test("a syntax error gives the reason, the line/column of the problem and what was expected", () => {
    const result = explainExpression('Join(",",\n  [a],\n  @)', {});
    expect(result).toEqual({
      ok: false,
      error: {
        kind: "syntax",
        message: 'Unexpected "@"',
        position: { offset: 19, line: 3, column: 3 },
        expected: ["a function call such as Append(...)", "an [attribute]", 'a "string"', "a number"],
      },
      trace: [],
    });
  });

  test("a half-typed expression points at its end", () => {
    const result = explainExpression("Append([mail], ", {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(/Unclosed \(/);
      expect(result.error.position).toEqual({ offset: 6, line: 1, column: 7 });
    }
  });

  test("a wrong-case function name suggests the right one", () => {
    const result = explainExpression('append([mail], "x")', {});
    expect(result.ok ? undefined : result.error.expected).toEqual(["Append"]);
  });

  test("an evaluation failure names the function, underlines its call and keeps the steps before it", () => {
    const expression = 'Append("x", CDate([hireDate]))';
    const result = explainExpression(expression, { hireDate: "not a date" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual({
      kind: "evaluation",
      message: expect.stringMatching(/^CDate: expression: "not a date" is not a date\/time string/) as string,
      functionName: "CDate",
      position: { offset: 12, line: 1, column: 13 },
      end: { offset: 29, line: 1, column: 30 },
    });
    expect(expression.slice(12, 29)).toBe("CDate([hireDate])");
    expect(result.trace.map((step) => step.expression)).toEqual([
      expression,
      '"x"',
      "CDate([hireDate])",
      "[hireDate]",
    ]);
    expect(result.trace.find((step) => step.expression === "[hireDate]")?.value).toBe('"not a date"');
  });

  test("IgnoreFlowIfNullOrEmpty: the attribute does not flow", () => {
    expect(explainExpression("IgnoreFlowIfNullOrEmpty([department])", { department: "" })).toMatchObject({
      ok: true,
      value: undefined,
      flows: false,
    });
  });

  test("Redact: the value is previewed but flagged, and hidden in the trace", () => {
    const result = explainExpression("Redact([employeeId])", { employeeId: "S3CRET" });
    expect(result).toMatchObject({ ok: true, value: "S3CRET", redacted: true });
    expect(result.trace.map((step) => step.value)).toEqual(["[Redact]", "[Redact]"]);
  });

  test("Now() and the random functions take the same options as evaluate", () => {
    expect(explainExpression("Now()", {}, { now: new Date("2021-07-02T15:33:38Z") })).toMatchObject({
      ok: true,
      value: "7/2/2021 3:33:38 PM",
    });
    expect(
      explainExpression(
        "SelectUniqueValue([a], [b])",
        { a: "x", b: "y" },
        { isUniqueValue: (v) => v === "y" },
      ),
    ).toMatchObject({ ok: true, value: "y" });
  });

  test.each([
    ["not a string", 42, {}],
    ["null", null, {}],
    ["a source that is not an object", "[a]", "oops"],
    ["a null source", 'Coalesce([a], "d")', null],
    ["an invalid Now()", "Now()", {}, { now: new Date("invalid") }],
  ] as const)("never throws: %s", (_label, expression, source, options?) => {
    const run = (): unknown =>
      explainExpression(
        expression as unknown as string,
        source as unknown as Record<string, unknown>,
        options,
      );
    expect(run).not.toThrow();
  });

  test("a null source reads every attribute as NULL", () => {
    expect(explainExpression('Coalesce([a], "d")', null)).toMatchObject({ ok: true, value: "d" });
    expect(explainExpression(42 as unknown as string, {})).toMatchObject({
      ok: false,
      error: { kind: "syntax", message: "The expression must be a string" },
    });
  });
});
