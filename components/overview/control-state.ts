import { type Status, runningCycle } from "@/lib/client/status";

export const READER_REASON = "Your role can view provisioning but not change it (Reader).";
const CONFIGURE_FIRST = "Configure the connection in Provisioning settings first.";

export interface ControlReasons {
  start: string | null;
  stop: string | null;
  restart: string | null;
  /** What Start does when it is on but provisioning already runs on its schedule. */
  startEffect: string | null;
  /** Each distinct reason once (then Start's effect), for the line under the buttons. */
  shown: string[];
}

/**
 * Why each of Start, Stop and Restart is off (null: it is on). One place decides, so the reason shown
 * always matches the disabled state. `now` is passed in so a queued cycle's due time is judged the same
 * way on every render.
 */
export function controlReasons(
  data: Status | undefined,
  role: { loaded: boolean; canWrite: boolean },
  now: number,
): ControlReasons {
  const readerReason = role.loaded && !role.canWrite ? READER_REASON : null;
  const running = Boolean(runningCycle(data));
  // A queued cycle already due is about to begin: Start would only move it to now, which it already is.
  const dueCycle = Boolean(data?.nextCycleAt && Date.parse(data.nextCycleAt) <= now);
  const start =
    readerReason ??
    (!data
      ? "Loading…"
      : data.code === "NotConfigured"
        ? CONFIGURE_FIRST
        : running
          ? "A cycle is running, so Start would do nothing."
          : dueCycle && !data.paused
            ? "A cycle is queued and begins in a moment, so Start would do nothing."
            : null);
  const stop =
    readerReason ??
    (!data
      ? "Loading…"
      : !running && (data.code === "Paused" || data.code === "NotRun" || data.code === "NotConfigured")
        ? "Provisioning is not running."
        : null);
  const restart =
    readerReason ?? (!data ? "Loading…" : data.code === "NotConfigured" ? CONFIGURE_FIRST : null);
  const startEffect =
    !start && data?.code === "Active" && data.nextCycleAt
      ? "Start runs the next scheduled cycle now instead of waiting for it."
      : !start && data?.code === "Active" && data.schedule.mode === "continuous"
        ? "Start runs a cycle now; in continuous mode one runs by itself as soon as Entra ID changes."
        : null;
  const shown = [...new Set([start, stop, restart, startEffect])].filter(
    (reason): reason is string => reason !== null && reason !== "Loading…",
  );
  return { start, stop, restart, startEffect, shown };
}

/**
 * A notice about a cycle that Start or Restart queued (or Stop is ending). It names the cycle it is about
 * so it can stop claiming "queued" once that cycle has run: the cycle cards show the outcome from then on.
 */
export interface CycleNotice {
  text: string;
  /** "queued": a new cycle is on its way; "stopping": the running cycle is ending. */
  kind: "queued" | "stopping" | "plain";
  /** The last cycle when the notice was given. */
  cycleId: string | null;
}

/** The notice's text as it should read now, or null once the cycle it speaks of has ended. */
export function currentNotice(notice: CycleNotice | null, data: Status | undefined): string | null {
  if (!notice) return null;
  if (notice.kind === "plain" || !data) return notice.text;
  const last = data.lastCycle;
  // The stopping cycle is the only one that can be running after Stop: nothing new starts until Start.
  if (notice.kind === "stopping") return runningCycle(data) ? notice.text : null;
  const newCycle = last && last.id !== notice.cycleId ? last : null;
  if (!newCycle) return notice.text;
  return newCycle.status === "running" ? "The queued cycle is running now." : null;
}
