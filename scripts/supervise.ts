/**
 * Keeps the launcher's processes running: one that dies is started again after a growing pause, so a
 * crashed worker (or web server, sandbox, embedded PostgreSQL) costs seconds instead of the whole
 * deployment. One that keeps dying is a fault a restart will not mend; the supervisor then gives up and
 * says so, and the launcher stops everything rather than spinning.
 */

export interface Exit {
  code: number | null;
  signal: string | null;
}

/** One run of a supervised process. */
export interface Running {
  pid?: number;
  /** Settles when this run ends, however it ends. */
  exited: Promise<Exit>;
  /** Asks it to stop and waits until it has. */
  stop(): Promise<void>;
}

export interface RestartPolicy {
  /** Pause before the first restart; doubled for each further one in a row. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A run that lasted this long counts as healthy: the next pause starts again from the first. */
  resetAfterMs: number;
  /** More restarts than this within `windowMs` is a crash loop. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  maxRestarts: 5,
  windowMs: 120_000,
};

export type SupervisorLog = (
  level: "info" | "warn" | "error",
  fields: Record<string, unknown>,
  message: string,
) => void;

interface Unit {
  name: string;
  restart: () => Promise<Running>;
  current?: Running;
  isStopping: boolean;
  wake?: () => void;
  loop: Promise<void>;
}

export class Supervisor {
  private readonly units = new Map<string, Unit>();
  private readonly policy: RestartPolicy;

  constructor(
    private readonly options: {
      log: SupervisorLog;
      /** Called once per unit that is in a crash loop; the supervisor no longer restarts it. */
      onCrashLoop: (name: string, restarts: number) => void;
      /** Called after every successful restart (the launcher records the new pids). */
      onRestarted?: (name: string, running: Running) => void;
      policy?: Partial<RestartPolicy>;
    },
  ) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.policy };
  }

  /** Watches a process that is already running; `restart` starts a new one when it dies. */
  supervise(name: string, first: Running, restart: () => Promise<Running>): void {
    if (this.units.has(name)) throw new Error(`${name} is already supervised`);
    const unit: Unit = { name, restart, current: first, isStopping: false, loop: Promise.resolve() };
    unit.loop = this.keepRunning(unit, first);
    this.units.set(name, unit);
  }

  pids(): number[] {
    return [...this.units.values()].flatMap((unit) => (unit.current?.pid ? [unit.current.pid] : []));
  }

  /**
   * No more restarts from now on, for any unit, though nothing is stopped yet. A Ctrl-C in a terminal
   * reaches every process of the group at once, PostgreSQL included, and what exits then must stay
   * down while the others are stopped in order.
   */
  endRestarts(): void {
    for (const unit of this.units.values()) {
      unit.isStopping = true;
      unit.wake?.();
    }
  }

  /** Stops a unit for good: no restart, a pending one cancelled, the running one stopped. */
  async stop(name: string): Promise<void> {
    const unit = this.units.get(name);
    if (!unit) return;
    unit.isStopping = true;
    unit.wake?.();
    await unit.current?.stop();
    await unit.loop;
  }

  private async keepRunning(unit: Unit, first: Running): Promise<void> {
    const { policy } = this;
    const restartTimes: number[] = [];
    let running = first;
    let inARow = 0;
    for (;;) {
      const startedAt = Date.now();
      const exit = await running.exited;
      unit.current = undefined;
      if (unit.isStopping) return;
      const upMs = Date.now() - startedAt;
      if (upMs >= policy.resetAfterMs) inARow = 0;
      let cause: Record<string, unknown> = { code: exit.code, signal: exit.signal, upSeconds: upMs / 1000 };
      const how = exit.signal ?? (exit.code === null ? undefined : `code ${exit.code}`);
      let message = `${unit.name} exited${how ? ` (${how})` : ""}`;
      for (;;) {
        const now = Date.now();
        restartTimes.push(now);
        while (restartTimes.length && restartTimes[0]! < now - policy.windowMs) restartTimes.shift();
        if (restartTimes.length > policy.maxRestarts) {
          this.options.log(
            "error",
            {
              child: unit.name,
              ...cause,
              restarts: restartTimes.length - 1,
              windowSeconds: policy.windowMs / 1000,
            },
            `${message}; it was restarted ${restartTimes.length - 1} times within ${policy.windowMs / 1000} s — crash loop, not restarting it again`,
          );
          this.options.onCrashLoop(unit.name, restartTimes.length - 1);
          return;
        }
        const delayMs = Math.min(policy.initialDelayMs * 2 ** inARow, policy.maxDelayMs);
        inARow += 1;
        this.options.log(
          "warn",
          { child: unit.name, ...cause, restartInMs: delayMs },
          `${message}; restarting in ${delayMs / 1000} s`,
        );
        await this.pause(unit, delayMs);
        if (unit.isStopping) return;
        try {
          running = await unit.restart();
        } catch (error) {
          cause = { error: error instanceof Error ? error.message : String(error) };
          message = `${unit.name} failed to start`;
          continue;
        }
        if (unit.isStopping) {
          await running.stop();
          return;
        }
        unit.current = running;
        this.options.log("info", { child: unit.name, pid: running.pid }, `${unit.name} restarted`);
        this.options.onRestarted?.(unit.name, running);
        break;
      }
    }
  }

  private pause(unit: Unit, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        unit.wake = undefined;
        resolve();
      }
      unit.wake = done;
    });
  }
}
