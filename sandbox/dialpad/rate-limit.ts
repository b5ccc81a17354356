export interface RateLimitSettings {
  requestsPerSecond: number;
  burst?: number;
}

export type TakeResult =
  { ok: true; remaining: number } | { ok: false; remaining: 0; retryAfterSeconds: number };

/**
 * Token bucket per company: Dialpad publishes "20 requests per second per company" for its API
 * (developers.dialpad.com/docs/rate-limits) without saying how bursts are treated, so a bucket as
 * deep as one second of budget is the emulator's reading.
 */
export class TokenBucket {
  readonly rate: number;
  readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(
    settings: RateLimitSettings,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(settings.requestsPerSecond > 0)) throw new Error("requestsPerSecond must be positive");
    this.rate = settings.requestsPerSecond;
    this.capacity = Math.max(1, settings.burst ?? settings.requestsPerSecond);
    this.tokens = this.capacity;
    this.last = this.clock();
  }

  private refill(): void {
    const now = this.clock();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  take(): TakeResult {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens) };
    }
    // Retry-After is whole seconds (RFC 9110 §10.2.3); never 0, or clients would retry at once.
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
    return { ok: false, remaining: 0, retryAfterSeconds };
  }

  get remaining(): number {
    this.refill();
    return Math.floor(this.tokens);
  }
}
