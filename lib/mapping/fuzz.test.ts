import { describe, expect, test } from "vitest";
import { FUNCTION_REGISTRY, argumentRange } from "./functions";
import { ExpressionEvaluationError, ExpressionSyntaxError, evaluate, parseExpression } from "./index";

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

function expectOnlyDocumentedErrors(expression: string): void {
  try {
    const result = evaluate(expression, SOURCE, { now: new Date("2024-05-01T12:00:00Z"), random: prng(1) });
    expect(result.trace.length).toBeGreaterThan(0);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) {
      expect(error.position.offset).toBeGreaterThanOrEqual(0);
      expect(error.position.offset).toBeLessThanOrEqual(expression.length);
      return;
    }
    if (error instanceof ExpressionEvaluationError) {
      expect(error.message).not.toMatch(/internal error/);
      return;
    }
    throw new Error(`unexpected ${String(error)} for ${JSON.stringify(expression)}`);
  }
}

describe("generated inputs never crash the parser or the evaluator", () => {
  test("2,000 random strings", () => {
    const random = prng(20261128);
    for (let index = 0; index < 2000; index++) {
      const text = randomText(random, Math.floor(random() * 40));
      try {
        parseExpression(text);
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError))
          throw new Error(`unexpected ${String(error)} for ${JSON.stringify(text)}`);
      }
    }
  });

  test("3,000 random nested calls", () => {
    const random = prng(42);
    for (let index = 0; index < 3000; index++) expectOnlyDocumentedErrors(randomExpression(random, 0));
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
