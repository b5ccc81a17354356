import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { renderExpressionDocs } from "./docs";
import { FUNCTION_REGISTRY, signatureOf } from "./functions";

test("docs/expressions.md is generated from the current function registry (run npx tsx scripts/generate-expression-docs.ts)", () => {
  const onDisk = readFileSync(fileURLToPath(new URL("../../docs/expressions.md", import.meta.url)), "utf8");
  expect(onDisk).toBe(renderExpressionDocs());
});

test("the docs describe every function with its signature", () => {
  const docs = renderExpressionDocs();
  for (const spec of FUNCTION_REGISTRY.values()) {
    expect(docs).toContain(`## ${spec.name}\n\n\`${signatureOf(spec)}\``);
  }
});
