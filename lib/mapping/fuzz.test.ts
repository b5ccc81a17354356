import { describe, expect, test } from "vitest";
import { FUNCTION_REGISTRY, argumentRange } from "./functions";
import {
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  evaluate,
  explainExpression,
  parseExpression,
} from "./index";

/** mulberry32: a small seeded PRNG, so a failing case can be reproduced from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcXYZ019 ,()[]"\\&H-+=<>.@é\n\t$*?{}^|';
const NAMES = [...FUNCTION_REGISTRY.keys()];
const ATTRIBUTES = ["mail", "givenName", "proxyAddresses", "accountEnabled", "missing", "hireDate", "count"];
const SOURCE = {
  mail: "Ann.Lee@contoso.com",
  givenName: "Zoë",
  proxyAddresses: ["SMTP:a@contoso.com", "smtp:b@contoso.com"],
  accountEnabled: true,
  hireDate: "2021-06-30+08:00",
  count: 7,
  empty: "",
};
const LITERALS = [
  '""',
  '"x"',
  '"2021-01-01"',
  '"yyyy-MM-dd"',
  '"d"',
  '"[a-z]+"',
  '"(a+)+$"',
  "0",
  "1",
  "-3",
  "300",
  "&HFF",
  "vbTextCompare",
];

function randomText(random: () => number, length: number): string {
  let text = "";
  for (let index = 0; index < length; index++)
    text += ALPHABET.charAt(Math.floor(random() * ALPHABET.length));
  return text;
}

function randomExpression(random: () => number, depth: number): string {
  const roll = random();
  if (depth > 3 || roll < 0.3) {
    if (random() < 0.5) return `[${ATTRIBUTES[Math.floor(random() * ATTRIBUTES.length)]}]`;
    return LITERALS[Math.floor(random() * LITERALS.length)] ?? '""';
  }
  if (roll < 0.35) return "";
  const name = NAMES[Math.floor(random() * NAMES.length)] ?? "Append";
  const spec = FUNCTION_REGISTRY.get(name);
  const { min, max } = spec ? argumentRange(spec) : { min: 0, max: 3 };
  // Mostly valid argument counts, sometimes not, so both evaluation and arity errors are exercised.
  const count =
    random() < 0.85
      ? min + Math.floor(random() * (Math.min(max, min + 3) - min + 1))
      : Math.floor(random() * 8);
  const args = Array.from({ length: count }, () => randomExpression(random, depth + 1));
  const call = `${name}(${args.join(", ")})`;
  return random() < 0.1 ? `${call} = ${randomExpression(random, depth + 1)}` : call;
}

type Outcome = "value" | "syntax error" | "evaluation error";

function expectOnlyDocumentedErrors(expression: string, source: Record<string, unknown> = SOURCE): Outcome {
  const options = { now: new Date("2024-05-01T12:00:00Z"), random: prng(1) };
  // The live preview must answer for every input evaluate() answers for, without throwing.
  const explained = explainExpression(expression, source, options);
  if (!explained.ok) expect(explained.error.message).not.toMatch(/internal error/);
  let outcome: Outcome;
  try {
    const result = evaluate(expression, source, options);
    expect(result.trace.length).toBeGreaterThan(0);
    outcome = "value";
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) {
      expect(error.position.offset).toBeGreaterThanOrEqual(0);
      expect(error.position.offset).toBeLessThanOrEqual(expression.length);
      outcome = "syntax error";
    } else if (error instanceof ExpressionEvaluationError) {
      expect(error.message).not.toMatch(/internal error/);
      outcome = "evaluation error";
    } else {
      throw new Error(`unexpected ${String(error)} for ${JSON.stringify(expression)}`);
    }
  }
  const explainedOutcome = explained.ok ? "value" : `${explained.error.kind} error`;
  expect({ expression, outcome: explainedOutcome }).toEqual({ expression, outcome });
  return outcome;
}

/** Tallies outcomes so a generator that only ever produces syntax errors is noticed. */
function tally(outcomes: Outcome[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { value: 0, "syntax error": 0, "evaluation error": 0 };
  for (const outcome of outcomes) counts[outcome]++;
  return counts;
}

describe("generated inputs never crash the parser or the evaluator", () => {
  test("2,000 random strings through the parser, the evaluator and the preview", () => {
    const random = prng(20261128);
    for (let index = 0; index < 2000; index++) {
      const text = randomText(random, Math.floor(random() * 40));
      try {
        parseExpression(text);
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError))
          throw new Error(`unexpected ${String(error)} for ${JSON.stringify(text)}`);
      }
      expectOnlyDocumentedErrors(text);
    }
  });

  test("random strings wrapped in calls reach the functions", () => {
    const random = prng(99);
    const outcomes: Outcome[] = [];
    for (let index = 0; index < 1000; index++) {
      const name = NAMES[Math.floor(random() * NAMES.length)] ?? "Append";
      const spec = FUNCTION_REGISTRY.get(name);
      const count = spec ? argumentRange(spec).min : 1;
      const args = Array.from({ length: count }, () =>
        JSON.stringify(randomText(random, Math.floor(random() * 12))).replace(/\\u[0-9a-f]{4}/g, "?"),
      );
      outcomes.push(expectOnlyDocumentedErrors(`${name}(${args.join(", ")})`));
    }
    // Most calls must get past the parser, or this test would not be exercising the functions at all.
    expect(tally(outcomes).value).toBeGreaterThan(500);
  });

  test("Microsoft's and our examples on 1,000 random source objects", () => {
    const random = prng(314);
    const examples = [...FUNCTION_REGISTRY.values()].flatMap((spec) =>
      spec.examples.map((example) => example.expression),
    );
    const randomValue = (): unknown => {
      const roll = random();
      if (roll < 0.15) return null;
      if (roll < 0.3) return Math.floor(random() * 2 ** 40) - 2 ** 20;
      if (roll < 0.4) return random() < 0.5;
      if (roll < 0.55) return [randomText(random, 5), randomText(random, 3)];
      if (roll < 0.6) return [];
      return randomText(random, Math.floor(random() * 20));
    };
    const outcomes: Outcome[] = [];
    for (let index = 0; index < 1000; index++) {
      const expression = examples[Math.floor(random() * examples.length)] ?? "";
      const source: Record<string, unknown> = {};
      for (const name of parseAttributes(expression)) source[name] = randomValue();
      outcomes.push(expectOnlyDocumentedErrors(expression, source));
    }
    const counts = tally(outcomes);
    expect(counts["syntax error"]).toBe(0);
    expect(counts.value).toBeGreaterThan(500);
  });

  test("3,000 random nested calls", () => {
    const random = prng(42);
    const outcomes: Outcome[] = [];
    for (let index = 0; index < 3000; index++)
      outcomes.push(expectOnlyDocumentedErrors(randomExpression(random, 0)));
    const counts = tally(outcomes);
    expect(counts.value).toBeGreaterThan(300);
    expect(counts["evaluation error"]).toBeGreaterThan(0);
  });

  test("1,000 random mutations of valid expressions", () => {
    const random = prng(7);
    const seeds = [...FUNCTION_REGISTRY.values()].flatMap((spec) =>
      spec.examples.map((example) => example.expression),
    );
    for (let index = 0; index < 1000; index++) {
      const seed = seeds[Math.floor(random() * seeds.length)] ?? "";
      const at = Math.floor(random() * (seed.length + 1));
      const cut = Math.floor(random() * 4);
      const mutated = seed.slice(0, at) + randomText(random, Math.floor(random() * 3)) + seed.slice(at + cut);
      expectOnlyDocumentedErrors(mutated);
    }
  });
});

function parseAttributes(expression: string): string[] {
  return [...expression.matchAll(/\[([^\]]+)\]/g)].map((match) => match[1] ?? "");
}
