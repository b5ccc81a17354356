/** Domain-neutral measuring helpers: timing a cycle through the job store, counting target requests. */
import type { Database } from "../lib/db/client";
import type { Cycle } from "../lib/db/generated/client";
import { startProvisioning } from "../lib/cycle/schedule";
import type { ScimRequestRecord } from "../sandbox/dialpad/server";

export interface TimedCycle {
  cycle: Omit<Cycle, "handover">;
  wallMs: number;
  counts: Record<string, number>;
}

/**
 * Starts a cycle the way the console's Start does (a provisioning-cycle job that the workers claim) and
 * waits until its Cycle row ended: planner, every unit and the finalizer. Wall time runs from the
 * Start to the end the Cycle row records.
 */
export async function runCycleToEnd(
  db: Database,
  connectionId: string,
  options: { timeoutMs: number; onProgress?: (cycle: Omit<Cycle, "handover">) => void },
): Promise<TimedCycle> {
  const startedAt = new Date();
  const started = await startProvisioning(db, connectionId);
  if (!("job" in started)) throw new Error(`Start queued no cycle: ${started.outcome}`);
  const jobId = started.job.id;
  const deadline = Date.now() + options.timeoutMs;
  let lastReport = 0;
  for (;;) {
    const cycle = await db.cycle.findFirst({
      where: { connectionId, startedAt: { gte: startedAt }, dryRun: false },
      orderBy: { startedAt: "desc" },
      // Not the handover (the finalizer's input): the bench polls what the console polls.
      omit: { handover: true },
    });
    if (cycle && cycle.status !== "running") {
      const endedAt = cycle.endedAt ?? new Date();
      return {
        cycle,
        wallMs: endedAt.getTime() - startedAt.getTime(),
        counts: (cycle.counts ?? {}) as Record<string, number>,
      };
    }
    if (!cycle) {
      const job = await db.job.findUnique({ where: { id: jobId } });
      if (job?.status === "failed") throw new Error(`The cycle job failed: ${job.lastError}`);
    }
    if (cycle && options.onProgress && Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      options.onProgress(cycle);
    }
    if (Date.now() > deadline) throw new Error(`The cycle did not end within ${options.timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface RequestTally {
  total: number;
  reads: number;
  writes: number;
  byMethod: Record<string, number>;
  throttled: number;
  serverErrors: number;
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function tallyRequests(requests: readonly ScimRequestRecord[]): RequestTally {
  const tally: RequestTally = { total: 0, reads: 0, writes: 0, byMethod: {}, throttled: 0, serverErrors: 0 };
  for (const request of requests) {
    tally.total += 1;
    tally.byMethod[request.method] = (tally.byMethod[request.method] ?? 0) + 1;
    if (WRITE_METHODS.has(request.method)) tally.writes += 1;
    else tally.reads += 1;
    if (request.status === 429) tally.throttled += 1;
    if (request.status >= 500) tally.serverErrors += 1;
  }
  return tally;
}

/**
 * Counts every request the emulator answers, however many: its own request log keeps only the last
 * 100,000, fewer than an initial cycle of 100,000 users sends.
 */
export class RequestCounter {
  #records: ScimRequestRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #tally: RequestTally = { total: 0, reads: 0, writes: 0, byMethod: {}, throttled: 0, serverErrors: 0 };
  first: number | null = null;
  last: number | null = null;

  constructor(private readonly log: ScimRequestRecord[]) {}

  start(): void {
    this.log.length = 0;
    this.#timer = setInterval(() => this.#drain(), 500);
  }

  stop(): RequestTally {
    clearInterval(this.#timer);
    this.#drain();
    return this.#tally;
  }

  #drain(): void {
    const taken = this.log.splice(0, this.log.length);
    this.#records = taken;
    const part = tallyRequests(this.#records);
    for (const record of taken) {
      const at = Date.parse(record.at);
      this.first = this.first === null ? at : Math.min(this.first, at);
      this.last = this.last === null ? at : Math.max(this.last, at);
    }
    this.#tally.total += part.total;
    this.#tally.reads += part.reads;
    this.#tally.writes += part.writes;
    this.#tally.throttled += part.throttled;
    this.#tally.serverErrors += part.serverErrors;
    for (const [method, count] of Object.entries(part.byMethod))
      this.#tally.byMethod[method] = (this.#tally.byMethod[method] ?? 0) + count;
    this.#records = [];
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}
