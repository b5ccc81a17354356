import type { BenchInfra } from "../infra";

export interface BenchParams {
  /** Directory size of scenarios 1, 3, 4 and 7. */
  users: number;
  groups: number;
  /** Worker processes of scenarios 1, 3, 4, 5 and 7. */
  workers: number;
  /** Users of the bounded rate-limited sample (scenario 2). */
  budgetUsers: number;
  onDemandRuns: number;
  logRows: number;
  exportRows: number;
  /** Directory size of the scale-out comparison (scenario 8). */
  scaleUsers: number;
  cycleTimeoutMs: number;
  /** Scenario 10: changes made in Entra ID, over how long, and the quiet window after them. */
  propagationChanges: number;
  propagationSpreadMs: number;
  propagationIdleMs: number;
}

export interface BenchContext {
  infra: BenchInfra;
  params: BenchParams;
  log(line: string): void;
}

/** Dialpad publishes 20 requests per second per company. */
export const DIALPAD_REQUESTS_PER_SECOND = 20;

/** An in-process limiter this fast never makes a request wait: "no rate limit" on our side too. */
export const UNLIMITED_REQUESTS_PER_SECOND = 1_000_000;

export const round = (value: number, digits = 0) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export const seconds = (ms: number) => `${round(ms / 1000, 1)} s`;
