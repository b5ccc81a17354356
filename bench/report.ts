/** The results table (stdout and docs/benchmarks.md). */
import os from "node:os";

export interface ScenarioResult {
  id: number;
  title: string;
  /** The measured figure, as it reads in the table. */
  figure: string;
  goal: string;
  /** null: not measured (skipped or failed to run). */
  met: boolean | null;
  /** Further figures and caveats, one line each. */
  details: string[];
}

export function verdict(met: boolean | null): string {
  return met === null ? "not measured" : met ? "meets goal" : "misses goal";
}

export function printResult(result: ScenarioResult, out: (line: string) => void): void {
  out(`[${result.id}] ${result.title}: ${result.figure} — goal ${result.goal} — ${verdict(result.met)}`);
  for (const line of result.details) out(`      ${line}`);
}

export function machineDescription(): string[] {
  const cpus = os.cpus();
  return [
    `CPUs: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown"}`,
    `Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `OS: ${os.type()} ${os.release()}, Node.js ${process.version}`,
  ];
}

const escapeCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(input: {
  command: string;
  startedAt: Date;
  durationMs: number;
  parameters: Record<string, string | number>;
  results: ScenarioResult[];
  notes: string;
}): string {
  const lines = [
    "# Benchmarks",
    "",
    "Produced by `npm run bench` (bench/run.ts); do not edit the measured sections by hand, run the command again.",
    "",
    `Command: \`${input.command}\``,
    "",
    `Run: ${input.startedAt.toISOString()}, ${(input.durationMs / 60_000).toFixed(1)} minutes in all.`,
    "",
    ...machineDescription().map((line) => `- ${line}`),
    `- Parameters: ${Object.entries(input.parameters)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")}`,
    "",
    "| # | Scenario | Measured | Goal | Verdict |",
    "| - | -------- | -------- | ---- | ------- |",
    ...input.results.map(
      (r) =>
        `| ${r.id} | ${escapeCell(r.title)} | ${escapeCell(r.figure)} | ${escapeCell(r.goal)} | ${verdict(r.met)} |`,
    ),
    "",
    "## Details",
    "",
    ...input.results.flatMap((r) => [
      `### ${r.id}. ${r.title}`,
      "",
      ...(r.details.length ? r.details.map((line) => `- ${line}`) : ["- (none)"]),
      "",
    ]),
    input.notes.trim(),
    "",
  ];
  return lines.join("\n");
}
