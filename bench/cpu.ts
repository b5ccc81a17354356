/**
 * Where a scenario's CPU went, by role: the worker processes, PostgreSQL (the postmaster, its live
 * backends and the backends that already exited), and the bench process itself (the emulators of Graph
 * and Dialpad, and the bench's own counting). Read from /proc, so it measures the real processes.
 */
import fs from "node:fs";
import path from "node:path";

/** Linux reports process times in clock ticks; 100 per second on every common kernel configuration. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  workers: number;
  postgres: number;
  bench: number;
}

function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; the fields after it start past its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** CPU seconds of a process (user + system), and with `children` those of its children it waited for. */
function cpuSecondsOf(pid: number, children = false): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const ticks =
    Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / TICKS_PER_SECOND;
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === parent) pids.push(Number(entry));
  }
  return pids;
}

function postmasterPid(dataDir: string): number | null {
  try {
    const first = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

export function cpuSnapshot(input: {
  workerPids: readonly (number | undefined)[];
  pgDataDir: string;
}): CpuSnapshot {
  const postmaster = postmasterPid(input.pgDataDir);
  const postgres =
    postmaster === null
      ? 0
      : cpuSecondsOf(postmaster, true) +
        childrenOf(postmaster).reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const own = process.cpuUsage();
  return {
    workers: input.workerPids.reduce<number>((sum, pid) => sum + (pid ? cpuSecondsOf(pid) : 0), 0),
    postgres,
    bench: (own.user + own.system) / 1e6,
  };
}

/**
 * One sentence: CPU per object by role between two snapshots, and the throughput this machine's cores
 * would allow if the workers cost nothing (the floor the rest of the system sets).
 */
export function describeCpu(before: CpuSnapshot, after: CpuSnapshot, objects: number, cores: number): string {
  const per = (role: keyof CpuSnapshot) => ((after[role] - before[role]) * 1000) / Math.max(1, objects);
  const workers = per("workers");
  const postgres = per("postgres");
  const bench = per("bench");
  const total = workers + postgres + bench;
  const ceiling = (ms: number) => Math.round((cores * 1000) / Math.max(ms, 0.001)).toLocaleString("en");
  return (
    `CPU per object: workers ${workers.toFixed(2)} ms, PostgreSQL ${postgres.toFixed(2)} ms, emulators and bench ` +
    `${bench.toFixed(2)} ms (${total.toFixed(2)} ms in all); on ${cores} cores that caps the machine at about ` +
    `${ceiling(total)} objects/s, and at ${ceiling(postgres + bench)} objects/s with workers that cost nothing.`
  );
}
