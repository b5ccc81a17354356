import { measureReconcile } from "../reconcile";
import type { ScenarioResult } from "../report";
import { round, seconds, type BenchContext } from "./context";

const PEAK_GOAL_MIB = 400;

/**
 * Scenario 9: one reconcile report of a Dialpad holding every Entra user (1 % drifted by hand), 1 % more
 * users created by hand and the Entra groups with their members (every fifth lost one by hand), computed
 * in a process of its own (bench/reconcile.ts).
 */
export async function runReconcileScenario(context: BenchContext): Promise<ScenarioResult> {
  const { params, log } = context;
  const run = await measureReconcile(params.users, (line) => log(`  ${line}`));
  const listed = run.read.dialpadUsers;
  // One listing page per 100 Dialpad users, one GET per linked group (its members), plus the few
  // requests of the groups' listing and the probe.
  const pages = Math.ceil(listed / 100) + run.read.dialpadGroups;
  const perHundred = (run.read.dialpadRequests / Math.max(1, listed)) * 100;
  const found = {
    orphans: run.counts.users.orphan ?? 0,
    drifted: run.counts.users.drifted ?? 0,
    driftedGroups: run.counts.groups.drifted ?? 0,
  };
  const correct =
    found.orphans === run.expected.orphans &&
    found.drifted === run.expected.drifted &&
    found.driftedGroups === run.expected.driftedGroups;
  return {
    id: 9,
    title: `Reconcile report, ${listed.toLocaleString("en")} Dialpad users (1 % orphans, 1 % drift)`,
    figure: `${seconds(run.reconcileMs)}, ${run.read.dialpadRequests} Dialpad requests (${round(perHundred, 2)} per 100 users listed), peak ${round(run.peakRssMb)} MiB`,
    goal: `≈ 1 request per 100 users listed (and 1 per linked group), peak RSS < ${PEAK_GOAL_MIB} MiB, every orphan and drift found`,
    met: correct && run.read.dialpadRequests <= pages + 10 && run.maxRssMb < PEAK_GOAL_MIB,
    details: [
      `Found ${found.orphans} orphans, ${found.drifted} drifted users and ${found.driftedGroups} groups with drifted members; seeded ${run.expected.orphans}, ${run.expected.drifted} and ${run.expected.driftedGroups}.`,
      `Read ${run.read.entraUsers} Entra users, ${listed} Dialpad users and ${run.read.dialpadGroups} Dialpad groups with their members; the emulator logged ${run.emulatorRequests} requests.`,
      `Phases (time since start): ${Object.entries(run.phasesMs)
        .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
        .join("; ")}.`,
      `CPU ${seconds(run.cpuMs)}; peak RSS ${round(run.maxRssMb)} MiB of the process computing the report, started with a worker's heap limit (WORKER_HEAP_MB).`,
    ],
  };
}
