import type { PrismaClient } from "../db/generated/client";
import type { RequestLimiter } from "../scim/limiter";

/**
 * A connection's request budget to Dialpad, shared by every worker on every host through one
 * PostgreSQL row (RequestBudget).
 *
 * The row is a schedule of request slots, evenly spaced at the current rate (GCRA): a reservation
 * atomically takes the next `n` slots (`UPDATE … SET "nextSlotAt" = GREATEST("nextSlotAt", now,
 * "pausedUntil") + n·interval RETURNING …`), and the process starts one request at each slot. Because
 * the row lock orders all reservations, slots never overlap, whichever process holds them. Each round
 * trip takes at most `maxBatch` slots and only as many as there are callers waiting, so the database
 * sees a few updates per second per connection and no slot is booked for nobody.
 *
 * Slot times travel as "milliseconds from the database's now", so hosts' clocks need not agree.
 * Timers fire late and round trips vary, so two guards keep "at most `ratePerSecond` requests in any
 * one-second window" true in practice: slots are spaced `(1000 + jitterAllowanceMs) / rate` apart, and a
 * slot whose timer fired more than half that allowance late is forfeited (the caller queues again)
 * rather than used, so a stalled event loop cannot release a burst.
 *
 * 429s: the rate halves (at most once per `decreaseCooldownMs`: a burst of 429s answered to requests
 * already in flight is one congestion signal), and a Retry-After becomes `pausedUntil` in the row, so
 * every process's next slots start after it; this process also drops the slots it holds. Another
 * process may still start the few slots it reserved before the 429 (at most `maxBatch`). Successes
 * raise the rate by `additiveIncrease` each, back up to the ceiling, summed and applied with the next
 * reservation rather than one write per request.
 */
export interface SharedRequestBudgetOptions {
  db: PrismaClient;
  connectionId: string;
  /** Ceiling; Dialpad allows 20 requests/second per company. */
  ratePerSecond?: number;
  minRatePerSecond?: number;
  additiveIncrease?: number;
  decreaseCooldownMs?: number;
  /** Upper bound on a Retry-After pause, so a bogus header cannot freeze provisioning for hours. */
  maxPauseMs?: number;
  /** Most slots one round trip reserves. */
  maxBatch?: number;
  /** Timer and round-trip jitter the spacing absorbs (see above). */
  jitterAllowanceMs?: number;
  /** How long to wait before retrying a failed reservation; callers are rejected after `maxDbFailures`. */
  dbRetryMs?: number;
  maxDbFailures?: number;
}

export interface SharedRequestBudgetStats {
  ratePerSecond: number;
  ceilingPerSecond: number;
  inFlight: number;
  waiting: number;
  heldSlots: number;
  pausedForMs: number;
  throttledCount: number;
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  slotAt?: number;
}

interface ReservationRow {
  nextSlotInMs: number;
  ratePerSecond: number;
  pausedForMs: number;
}

const now = () => performance.now();

export class SharedRequestBudget implements RequestLimiter {
  readonly #db: PrismaClient;
  readonly #connectionId: string;
  readonly #ceiling: number;
  readonly #floor: number;
  readonly #additiveIncrease: number;
  readonly #decreaseCooldownMs: number;
  readonly #maxPauseMs: number;
  readonly #maxBatch: number;
  readonly #spacingFactor: number;
  readonly #lateToleranceMs: number;
  readonly #dbRetryMs: number;
  readonly #maxDbFailures: number;

  /** Callers without a slot, FIFO. */
  #queue: Waiter[] = [];
  /** Callers holding a slot, waiting for its time. */
  readonly #scheduled = new Set<Waiter>();
  /** Reserved slot times (performance.now() clock) not yet given to a caller. */
  #slots: number[] = [];
  #syncing: Promise<void> | undefined;
  #ensured: Promise<void> | undefined;
  #pausedUntil = 0;
  #rate: number;
  #pendingSuccesses = 0;
  #pendingThrottles: number[] = [];
  #inFlight = 0;
  #throttledCount = 0;
  #dbFailures = 0;

  constructor(options: SharedRequestBudgetOptions) {
    this.#db = options.db;
    this.#connectionId = options.connectionId;
    this.#ceiling = options.ratePerSecond ?? 20;
    this.#floor = Math.min(options.minRatePerSecond ?? 1, this.#ceiling);
    this.#additiveIncrease = options.additiveIncrease ?? 0.05;
    this.#decreaseCooldownMs = options.decreaseCooldownMs ?? 1_000;
    this.#maxPauseMs = options.maxPauseMs ?? 300_000;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 4);
    // 60 ms keeps ~94 % of the budget usable while absorbing the round-trip and timer jitter of a loaded
    // 2-core host (40 ms let a 21st request into a one-second window under heavy load).
    const jitter = options.jitterAllowanceMs ?? 60;
    this.#spacingFactor = (1000 + jitter) / 1000;
    this.#lateToleranceMs = jitter / 2;
    this.#dbRetryMs = options.dbRetryMs ?? 500;
    this.#maxDbFailures = options.maxDbFailures ?? 3;
    this.#rate = this.#ceiling;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => this.#abandon(waiter, signal.reason);
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  onThrottled(retryAfterMs?: number): void {
    this.#throttledCount += 1;
    const pauseMs = Math.min(Math.max(retryAfterMs ?? 0, 0), this.#maxPauseMs);
    this.#pendingThrottles.push(pauseMs);
    if (pauseMs > 0) {
      this.#pausedUntil = Math.max(this.#pausedUntil, now() + pauseMs);
      this.#requeueScheduledBefore(this.#pausedUntil);
    }
    this.#pump();
  }

  onSuccess(): void {
    this.#pendingSuccesses += 1;
  }

  release(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  stats(): SharedRequestBudgetStats {
    return {
      ratePerSecond: this.#rate,
      ceilingPerSecond: this.#ceiling,
      inFlight: this.#inFlight,
      waiting: this.#queue.length + this.#scheduled.size,
      heldSlots: this.#slots.length,
      pausedForMs: Math.max(0, this.#pausedUntil - now()),
      throttledCount: this.#throttledCount,
    };
  }

  /** Hands held slots to queued callers, and reserves more when callers are left without one. */
  #pump(): void {
    const current = now();
    while (this.#queue.length > 0 && this.#slots.length > 0) {
      const slotAt = this.#slots.shift()!;
      if (slotAt < current - this.#lateToleranceMs || slotAt < this.#pausedUntil) continue;
      const waiter = this.#queue.shift()!;
      this.#schedule(waiter, slotAt);
    }
    const needsSync = this.#queue.length > this.#slots.length || this.#pendingThrottles.length > 0;
    if (needsSync && !this.#syncing) {
      this.#syncing = this.#sync().then(
        () => {
          this.#syncing = undefined;
          this.#pump();
        },
        (error: unknown) => {
          this.#syncing = undefined;
          this.#onDbFailure(error);
        },
      );
    }
  }

  #schedule(waiter: Waiter, slotAt: number): void {
    waiter.slotAt = slotAt;
    this.#scheduled.add(waiter);
    waiter.timer = setTimeout(() => this.#fire(waiter), Math.max(0, slotAt - now()));
  }

  #fire(waiter: Waiter): void {
    this.#scheduled.delete(waiter);
    const slotAt = waiter.slotAt ?? 0;
    waiter.slotAt = undefined;
    if (now() - slotAt > this.#lateToleranceMs || now() < this.#pausedUntil) {
      // Too late (the event loop stalled) or paused meanwhile: starting now could crowd the next slots.
      this.#queue.unshift(waiter);
      this.#pump();
      return;
    }
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener("abort", waiter.onAbort);
    this.#inFlight += 1;
    waiter.resolve();
  }

  #abandon(waiter: Waiter, reason: unknown): void {
    if (waiter.timer) clearTimeout(waiter.timer);
    if (this.#scheduled.delete(waiter) && waiter.slotAt !== undefined) {
      // The slot is still good for the next caller in line.
      this.#slots.unshift(waiter.slotAt);
    }
    this.#queue = this.#queue.filter((queued) => queued !== waiter);
    waiter.reject(reason);
    this.#pump();
  }

  #requeueScheduledBefore(time: number): void {
    const bumped = [...this.#scheduled].filter((waiter) => (waiter.slotAt ?? 0) < time);
    for (const waiter of bumped) {
      clearTimeout(waiter.timer);
      this.#scheduled.delete(waiter);
      waiter.slotAt = undefined;
    }
    this.#queue.unshift(...bumped);
    this.#slots = this.#slots.filter((slot) => slot >= time);
  }

  async #sync(): Promise<void> {
    this.#ensured ??= this.#ensureRow().catch((error: unknown) => {
      this.#ensured = undefined;
      throw error;
    });
    await this.#ensured;
    if (this.#pendingThrottles.length > 0) await this.#reportThrottles();
    const wanted = Math.min(this.#maxBatch, this.#queue.length - this.#slots.length);
    if (wanted > 0) await this.#reserve(wanted);
    this.#dbFailures = 0;
  }

  async #ensureRow(): Promise<void> {
    // The configured ceiling wins, so lowering it in settings takes effect on the next worker start.
    await this.#db.$executeRaw`
      INSERT INTO "RequestBudget" ("connectionId", "ceilingPerSecond", "ratePerSecond")
      VALUES (${this.#connectionId}::uuid, ${this.#ceiling}, ${this.#ceiling})
      ON CONFLICT ("connectionId") DO UPDATE SET "ceilingPerSecond" = EXCLUDED."ceilingPerSecond",
        "ratePerSecond" = LEAST("RequestBudget"."ratePerSecond", EXCLUDED."ceilingPerSecond")`;
  }

  async #reserve(count: number): Promise<void> {
    const successes = this.#pendingSuccesses;
    this.#pendingSuccesses = 0;
    const [row] = await this.#db.$queryRaw<ReservationRow[]>`
      UPDATE "RequestBudget" SET
        "ratePerSecond" = LEAST("ceilingPerSecond", "ratePerSecond" + ${successes * this.#additiveIncrease}),
        "nextSlotAt" = GREATEST("nextSlotAt", clock_timestamp(), "pausedUntil")
          + make_interval(secs => ${count * this.#spacingFactor}
            / LEAST("ceilingPerSecond", "ratePerSecond" + ${successes * this.#additiveIncrease})),
        "grantedTotal" = "grantedTotal" + ${count},
        "updatedAt" = now()
      WHERE "connectionId" = ${this.#connectionId}::uuid
      RETURNING (extract(epoch FROM "nextSlotAt" - clock_timestamp()) * 1000)::float8 AS "nextSlotInMs",
        "ratePerSecond",
        GREATEST(extract(epoch FROM "pausedUntil" - clock_timestamp()) * 1000, 0)::float8 AS "pausedForMs"`;
    if (!row) throw new Error(`No request budget row for connection ${this.#connectionId}`);
    const received = now();
    this.#rate = row.ratePerSecond;
    const intervalMs = (1000 * this.#spacingFactor) / row.ratePerSecond;
    const firstSlot = received + row.nextSlotInMs - count * intervalMs;
    for (let index = 0; index < count; index += 1) this.#slots.push(firstSlot + index * intervalMs);
    if (row.pausedForMs > 0) {
      // Another process was told to back off; its pause applies to slots this process already holds.
      this.#pausedUntil = Math.max(this.#pausedUntil, received + row.pausedForMs);
      this.#requeueScheduledBefore(this.#pausedUntil);
    }
  }

  async #reportThrottles(): Promise<void> {
    const throttles = this.#pendingThrottles;
    this.#pendingThrottles = [];
    const pauseMs = Math.max(0, ...throttles);
    const [row] = await this.#db.$queryRaw<{ ratePerSecond: number }[]>`
      UPDATE "RequestBudget" SET
        "ratePerSecond" = CASE WHEN "lastDecreaseAt" IS NULL
            OR "lastDecreaseAt" < clock_timestamp() - make_interval(secs => ${this.#decreaseCooldownMs / 1000})
          THEN GREATEST(${this.#floor}, "ratePerSecond" / 2) ELSE "ratePerSecond" END,
        "lastDecreaseAt" = CASE WHEN "lastDecreaseAt" IS NULL
            OR "lastDecreaseAt" < clock_timestamp() - make_interval(secs => ${this.#decreaseCooldownMs / 1000})
          THEN clock_timestamp() ELSE "lastDecreaseAt" END,
        "pausedUntil" = GREATEST("pausedUntil", clock_timestamp() + make_interval(secs => ${pauseMs / 1000})),
        "throttledTotal" = "throttledTotal" + ${throttles.length},
        "updatedAt" = now()
      WHERE "connectionId" = ${this.#connectionId}::uuid
      RETURNING "ratePerSecond"`;
    if (row) this.#rate = row.ratePerSecond;
  }

  #onDbFailure(error: unknown): void {
    this.#dbFailures += 1;
    if (this.#dbFailures < this.#maxDbFailures) {
      setTimeout(() => this.#pump(), this.#dbRetryMs).unref();
      return;
    }
    // The budget cannot be consulted: fail the waiting requests (their jobs retry) rather than send
    // unpaced traffic or hang.
    this.#dbFailures = 0;
    const failed = this.#queue;
    this.#queue = [];
    for (const waiter of failed) {
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener("abort", waiter.onAbort);
      waiter.reject(
        new Error(`Request budget unavailable: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
}

export function createSharedRequestBudget(options: SharedRequestBudgetOptions): SharedRequestBudget {
  return new SharedRequestBudget(options);
}
