import { describe, expect, it } from "vitest";
import { ExpressionLimitError } from "./errors";
import { evaluate, evaluateExpression } from "./evaluator";
import { explainExpression } from "./explain";

/** How an evaluation that would multiply its input is stopped, and that ordinary ones are not. */
function limitOf(run: () => unknown): ExpressionLimitError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ExpressionLimitError);
  return caught as ExpressionLimitError;
}

describe("evaluation limits", () => {
  it("refuses Join's result before building it when the separator repeated per value makes it too long", () => {
    const source = { items: Array.from({ length: 2_000 }, () => "v"), sep: "s".repeat(100) };

    const error = limitOf(() => evaluate("Join([sep], [items])", source));

    expect(error.limit).toBe("value-length");
    expect(error.functionName).toBe("Join");
    expect(error.message).toMatch(/values are limited to 65,536/);
  });

  it("refuses Replace whose replacement repeated per match would be too long", () => {
    const source = { text: "x".repeat(1_000), wide: "w".repeat(1_000) };

    // replacementValue per occurrence of oldValue, and the source per occurrence in a template
    const replaced = limitOf(() => evaluate('Replace([text], "x", , , [wide], , )', source));
    const templated = limitOf(() => evaluate('Replace([wide], "x", , , , , [text])', source));

    expect([replaced.limit, replaced.functionName]).toEqual(["value-length", "Replace"]);
    expect([templated.limit, templated.functionName]).toEqual(["value-length", "Replace"]);
  });

  it("stops a regex replacement that inserts the whole input ($_) at every match", () => {
    const source = { text: "y".repeat(1_000) };

    const error = limitOf(() => evaluate('Replace([text], , "y", , "$_$_", , )', source));

    expect([error.limit, error.functionName]).toEqual(["value-length", "Replace"]);
  });

  it("refuses a source attribute longer than a value may be", () => {
    expect(limitOf(() => evaluate("ToUpper([big])", { big: "b".repeat(70_000) })).limit).toBe("value-length");
  });

  it("counts everything produced, even when each value is short enough", () => {
    const expression = `Coalesce(${Array.from({ length: 100 }, () => "[text]").join(", ")})`;

    const error = limitOf(() => evaluate(expression, { text: "t".repeat(60_000) }));

    expect(error.limit).toBe("total-length");
  });

  it("stops at the step and time bounds given", () => {
    expect(limitOf(() => evaluate('Join(",", "a", "b", "c")', {}, { limits: { maxSteps: 3 } })).limit).toBe(
      "steps",
    );
    const slowExpression = `Join(",", ${Array.from({ length: 1_500 }, () => '"a"').join(", ")})`;
    expect(limitOf(() => evaluate(slowExpression, {}, { limits: { maxMilliseconds: -1 } })).limit).toBe(
      "time",
    );
  });

  it("still evaluates long but legitimate values, and shows only the start of one in the trace", () => {
    const result = evaluate("ToUpper([note])", { note: "n".repeat(60_000) });

    expect(result.value).toBe("N".repeat(60_000));
    expect(result.trace[0]!.value.length).toBeLessThan(1_100);
    expect(result.trace[0]!.value).toMatch(/… \(60,002 characters\)$/);
    expect(evaluateExpression('Join(" ", [a], [b])', { a: "Ada", b: "Lovelace" })).toBe("Ada Lovelace");
  });

  it("tells the editor which bound stopped the evaluation", () => {
    const result = explainExpression("ToUpper([big])", { big: "b".repeat(70_000) });

    expect(result).toMatchObject({ ok: false, error: { kind: "evaluation", limitExceeded: "value-length" } });
  });
});
