/**
 * Entra's quarantine rules as pure functions (reference §1h): when a cycle puts the job in quarantine,
 * when the next attempt runs, and when a long quarantine turns provisioning off.
 */

export type QuarantineReason =
  | "EncounteredBaseEscrowThreshold"
  | "EncounteredTotalEscrowThreshold"
  | "EncounteredEscrowProportionThreshold"
  | "EncounteredQuarantineException"
  | "TooManyDeletes"
  | "Unknown";

export interface EscrowThresholds {
  /** No proportion check below this many failures (Entra: 5,000). */
  minFailures: number;
  /** Failed share of the cycle's events above which the job is quarantined (Entra: 40 %). */
  proportion: number;
  /** Non-reference failures above which the job is quarantined whatever the share (Entra: 40,000). */
  maxFailures: number;
  /** All failures, reference ones included (Entra: 60,000). */
  maxFailuresWithReferences: number;
}

export const ENTRA_ESCROW_THRESHOLDS: EscrowThresholds = {
  minFailures: 5_000,
  proportion: 0.4,
  maxFailures: 40_000,
  maxFailuresWithReferences: 60_000,
};

/** Which escrow threshold, if any, the outstanding failures cross. */
export function escrowQuarantineReason(
  escrows: { objectFailures: number; referenceFailures: number; cycleEvents: number; cycleFailures: number },
  thresholds: EscrowThresholds = ENTRA_ESCROW_THRESHOLDS,
): QuarantineReason | null {
  if (escrows.objectFailures + escrows.referenceFailures > thresholds.maxFailuresWithReferences)
    return "EncounteredTotalEscrowThreshold";
  if (escrows.objectFailures > thresholds.maxFailures) return "EncounteredBaseEscrowThreshold";
  if (
    escrows.objectFailures >= thresholds.minFailures &&
    escrows.cycleEvents > 0 &&
    escrows.cycleFailures / escrows.cycleEvents > thresholds.proportion
  )
    return "EncounteredEscrowProportionThreshold";
  return null;
}

const HOUR = 3_600_000;
/** +6 h, +12 h, +24 h after the first failure, then every 24 h. */
const RETRY_DELAYS = [6 * HOUR, 12 * HOUR, 24 * HOUR];
export const QUARANTINE_DISABLE_AFTER_MS = 28 * 24 * HOUR;

export interface QuarantineState {
  reason: string | null;
  seriesBegan: Date | null;
  currentBegan: Date | null;
  nextAttempt: Date | null;
  seriesCount: number;
  notifiedReason: string | null;
}

export interface QuarantineDecision {
  state: QuarantineState;
  /** Send the quarantine e-mail: entering quarantine, or its reason changed. */
  notify: boolean;
  /** Four weeks in quarantine: Entra disables the job. */
  disableProvisioning: boolean;
}

/** The quarantine after a cycle that hit `reason` (null = the cycle went well, which ends any quarantine). */
export function nextQuarantineState(
  previous: QuarantineState,
  reason: QuarantineReason | null,
  now: Date,
): QuarantineDecision {
  if (reason === null) {
    return {
      state: {
        reason: null,
        seriesBegan: null,
        currentBegan: null,
        nextAttempt: null,
        seriesCount: 0,
        notifiedReason: null,
      },
      notify: false,
      disableProvisioning: false,
    };
  }
  const seriesBegan = previous.seriesBegan ?? now;
  const seriesCount = previous.reason ? previous.seriesCount + 1 : 1;
  const delay = RETRY_DELAYS[Math.min(seriesCount, RETRY_DELAYS.length) - 1] ?? 24 * HOUR;
  return {
    state: {
      reason,
      seriesBegan,
      currentBegan: previous.reason === reason && previous.currentBegan ? previous.currentBegan : now,
      nextAttempt: new Date(now.getTime() + delay),
      seriesCount,
      notifiedReason: previous.notifiedReason,
    },
    notify: previous.notifiedReason !== reason,
    disableProvisioning: now.getTime() - seriesBegan.getTime() >= QUARANTINE_DISABLE_AFTER_MS,
  };
}
