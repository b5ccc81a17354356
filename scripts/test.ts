/**
 * The README's test command (`npm test`): static checks, then unit and integration tests (Vitest, real
 * PostgreSQL), then end-to-end tests (Playwright in Debian's Chromium against `npm start`).
 * Stops at the first failing stage and prints a one-line summary per stage.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const stages: { name: string; command: string[]; before?: () => void }[] = [
  { name: "typecheck", command: ["npx", "tsc", "--noEmit"] },
  { name: "lint", command: ["npx", "eslint", ".", "--max-warnings", "0"] },
  { name: "unit and integration", command: ["npx", "vitest", "run"] },
  {
    name: "end-to-end",
    command: ["npx", "playwright", "test"],
    before: () => fs.rmSync(process.env.E2E_DATA_DIR ?? "./data/e2e", { recursive: true, force: true }),
  },
];

const only = process.argv.slice(2);
const results: { name: string; ok: boolean; seconds: number }[] = [];
for (const stage of stages) {
  if (only.length && !only.includes(stage.name.split(" ")[0]!)) continue;
  stage.before?.();
  const started = Date.now();
  console.log(`\n=== ${stage.name}: ${stage.command.join(" ")}`);
  const result = spawnSync(stage.command[0]!, stage.command.slice(1), { stdio: "inherit" });
  const ok = result.status === 0;
  results.push({ name: stage.name, ok, seconds: Math.round((Date.now() - started) / 1000) });
  if (!ok) break;
}
console.log("\n=== summary");
for (const result of results)
  console.log(`${result.ok ? "passed" : "FAILED"}  ${result.name} (${result.seconds} s)`);
const failed = results.filter((result) => !result.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
