/**
 * `npm run bench [-- --quick] [--users N] [--groups M] [--workers W] [--only 1,3] [--out FILE]`
 *
 * Runs the scenarios of docs/benchmarks.md against real parts (embedded PostgreSQL, the HTTPS
 * emulators, worker processes, the REST routes over HTTP), prints each figure with its verdict and
 * writes the table. It measures; it does not gate: the exit code is 0 whatever the verdicts.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startBenchInfra } from "./infra";
import { machineDescription, printResult, renderMarkdown, type ScenarioResult } from "./report";
import { runLogsScenario, runOnDemandScenario } from "./scenarios/api";
import { runBudgetScenario } from "./scenarios/budget";
import type { BenchContext, BenchParams } from "./scenarios/context";
import { runInitialAndIncremental } from "./scenarios/initial";
import { runScaleOutScenario } from "./scenarios/scale-out";
import { runReconcileScenario } from "./scenarios/reconcile";
import { runPropagationScenario } from "./scenarios/propagation";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    users: { type: "string" },
    groups: { type: "string" },
    workers: { type: "string" },
    "budget-users": { type: "string" },
    "scale-users": { type: "string" },
    "log-rows": { type: "string" },
    only: { type: "string" },
    out: { type: "string" },
  },
});

const FULL: BenchParams = {
  users: 100_000,
  groups: 2_000,
  workers: 2,
  budgetUsers: 1_500,
  onDemandRuns: 200,
  logRows: 1_000_000,
  exportRows: 100_000,
  scaleUsers: 3_000,
  cycleTimeoutMs: 25 * 60_000,
  propagationChanges: 100,
  propagationSpreadMs: 3 * 60_000,
  propagationIdleMs: 5 * 60_000,
};
const QUICK: BenchParams = {
  users: 2_000,
  groups: 40,
  workers: 2,
  budgetUsers: 150,
  onDemandRuns: 40,
  logRows: 100_000,
  exportRows: 20_000,
  scaleUsers: 800,
  cycleTimeoutMs: 5 * 60_000,
  propagationChanges: 30,
  propagationSpreadMs: 45_000,
  propagationIdleMs: 60_000,
};

const number = (text: string | undefined) =>
  text === undefined ? undefined : Number(text.replace(/_/g, ""));
const base = values.quick ? QUICK : FULL;
const params: BenchParams = {
  ...base,
  users: number(values.users) ?? base.users,
  groups: number(values.groups) ?? base.groups,
  workers: number(values.workers) ?? base.workers,
  budgetUsers: number(values["budget-users"]) ?? base.budgetUsers,
  scaleUsers: number(values["scale-users"]) ?? base.scaleUsers,
  logRows: number(values["log-rows"]) ?? base.logRows,
};
params.exportRows = Math.min(params.exportRows, params.logRows);
const only = values.only ? new Set(values.only.split(",").map(Number)) : null;
const wanted = (...ids: number[]) => !only || ids.some((id) => only.has(id));
const outFile = path.resolve(values.out ?? "docs/benchmarks.md");

const startedAt = new Date();
const log = (line: string) =>
  console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(5)} s] ${line}`);
for (const line of machineDescription()) log(line);
log(`parameters: ${JSON.stringify(params)}`);

const results: ScenarioResult[] = [];
const record = (result: ScenarioResult) => {
  results.push(result);
  printResult(result, log);
};
const failed = (id: number, title: string, goal: string, error: unknown): ScenarioResult => ({
  id,
  title,
  figure: "did not complete",
  goal,
  met: null,
  details: [`Error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`],
});

const infra = await startBenchInfra(log);
// Interrupted: still stop PostgreSQL and remove the temporary directory (children follow over IPC).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void infra.close().finally(() => process.exit(130));
  });
}
const context: BenchContext = { infra, params, log };
try {
  const steps: { ids: number[]; title: string; goal: string; run: () => Promise<ScenarioResult[]> }[] = [
    {
      ids: [1, 7, 3, 4],
      title: "Initial and incremental cycles",
      goal: "see the issue",
      run: () => runInitialAndIncremental(context),
    },
    {
      ids: [5],
      title: "Provision on demand",
      goal: "p95 < 1 s",
      run: async () => [await runOnDemandScenario(context)],
    },
    {
      ids: [6],
      title: "Provisioning logs API",
      goal: "page p95 < 150 ms",
      run: async () => [await runLogsScenario(context)],
    },
    {
      ids: [2],
      title: "Initial cycle under the 20 requests/s budget",
      goal: "≥ 0.9 of the budget, 0 failed",
      run: async () => [await runBudgetScenario(context)],
    },
    { ids: [8], title: "Scale-out", goal: "≥ 2.5×", run: async () => [await runScaleOutScenario(context)] },
    {
      ids: [9],
      title: "Reconcile report",
      goal: "peak RSS < 400 MiB",
      run: async () => [await runReconcileScenario(context)],
    },
    {
      ids: [10],
      title: "Change propagation, continuous mode",
      goal: "p95 < 60 s",
      run: async () => [await runPropagationScenario(context)],
    },
  ];
  for (const step of steps) {
    if (!wanted(...step.ids)) continue;
    log(`── ${step.title} (scenario ${step.ids.join(", ")})`);
    try {
      for (const result of await step.run()) record(result);
    } catch (error) {
      log(`   failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      for (const id of step.ids) record(failed(id, step.title, step.goal, error));
    }
  }
} finally {
  await infra.close();
}

results.sort((a, b) => a.id - b.id);
const command = ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(
  " ",
);
const notesFile = path.join(import.meta.dirname, "NOTES.md");
const notes = fs.existsSync(notesFile) ? fs.readFileSync(notesFile, "utf8") : "";
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(
  outFile,
  renderMarkdown({
    command,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    parameters: { ...params },
    results,
    notes,
  }),
);
log(`wrote ${path.relative(process.cwd(), outFile)}`);
process.exit(0);
