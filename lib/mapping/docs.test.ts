import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { expect, test } from "vitest";
import { renderExpressionDocs } from "./docs";
import { FUNCTION_REGISTRY, signatureOf } from "./functions";

const docsPath = fileURLToPath(new URL("../../docs/expressions.md", import.meta.url));

test("docs/expressions.md is generated from the current function registry (run npx tsx scripts/generate-expression-docs.ts)", () => {
  expect(readFileSync(docsPath, "utf8")).toBe(renderExpressionDocs());
});

test("the generated docs are already in Prettier's layout, so regenerating never fails the format check", async () => {
  const rendered = renderExpressionDocs();
  const options = (await resolveConfig(docsPath)) ?? {};
  expect(await format(rendered, { ...options, filepath: docsPath })).toBe(rendered);
});

test("the docs describe every function with its signature, meaning and examples", () => {
  const docs = renderExpressionDocs();
  for (const spec of FUNCTION_REGISTRY.values()) {
    const section = docs.slice(docs.indexOf(`## ${spec.name}\n`));
    expect(section.startsWith(`## ${spec.name}\n\n\`${signatureOf(spec)}\``)).toBe(true);
    expect(section).toContain(spec.summary.slice(0, 40));
    for (const example of spec.examples) expect(section).toContain(example.expression.replace(/\|/g, "\\|"));
  }
});
