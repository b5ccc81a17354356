// Writes docs/expressions.md from the expression function registry: npx tsx scripts/generate-expression-docs.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderExpressionDocs } from "../lib/mapping/docs";

const target = fileURLToPath(new URL("../docs/expressions.md", import.meta.url));
writeFileSync(target, renderExpressionDocs());
console.log(`wrote ${target}`);
