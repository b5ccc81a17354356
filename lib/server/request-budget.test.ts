import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDatabase, type Database } from "../db/client";
import { createTestDatabase, type TestDatabase } from "../../test/database";
import { SharedRequestBudget } from "./request-budget";

let t: TestDatabase;
/** One client (own pool, own connections) per limiter, as separate worker processes would have. */
let clients: Database[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  clients = [1, 2, 3].map(() => createDatabase(t.url, { poolSize: 2 }));
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.$disconnect()));
  await t.drop();
});

async function newConnection(): Promise<string> {
  return (await t.db.connection.create({ data: { name: "budget test" } })).id;
}

/** Callers that each send one request after another, as units of a cycle do, until `until`. */
async function hammer(limiter: SharedRequestBudget, callers: number, until: number, grants: number[]) {
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < until) {
        await limiter.acquire();
        grants.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 5));
        limiter.onSuccess();
        limiter.release();
      }
    }),
  );
}

function busiestSecond(grants: number[]): number {
  const sorted = [...grants].sort((a, b) => a - b);
  let busiest = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= 1000) start += 1;
    busiest = Math.max(busiest, end - start + 1);
  }
  return busiest;
}

describe("shared request budget", () => {
  test("three limiters on separate connections never exceed 20 requests in any one-second window", async () => {
    const connectionId = await newConnection();
    const limiters = clients.map((db) => new SharedRequestBudget({ db, connectionId, ratePerSecond: 20 }));
    const grantsByLimiter: number[][] = [[], [], []];
    const until = Date.now() + 3_000;
    await Promise.all(limiters.map((limiter, index) => hammer(limiter, 5, until, grantsByLimiter[index]!)));

    const all = grantsByLimiter.flat();
    // Sliding windows, stricter than fixed ones: every window starting at any grant.
    expect(busiestSecond(all)).toBeLessThanOrEqual(20);
    // …while still using most of the budget (18.9/s after the jitter allowance) over the ~3 s.
    expect(all.length).toBeGreaterThanOrEqual(48);
    // And the budget is shared, not won by one process.
    for (const grants of grantsByLimiter) expect(grants.length).toBeGreaterThanOrEqual(8);
    const [row] = await t.db.$queryRaw<{ grantedTotal: bigint }[]>`
      SELECT "grantedTotal" FROM "RequestBudget" WHERE "connectionId" = ${connectionId}::uuid`;
    expect(Number(row?.grantedTotal)).toBeGreaterThanOrEqual(all.length);
  });

  test("a 429 with Retry-After in one process pauses the others and halves the shared rate", async () => {
    const connectionId = await newConnection();
    const [a, b, c] = clients.map((db) => new SharedRequestBudget({ db, connectionId, ratePerSecond: 20 }));
    const grantsB: number[] = [];
    const grantsC: number[] = [];
    const until = Date.now() + 2_000;
    const running = Promise.all([hammer(b!, 3, until, grantsB), hammer(c!, 3, until, grantsC)]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await a!.acquire();
    const throttledAt = Date.now();
    a!.onThrottled(1_000);
    a!.release();
    // A's report reaches the row with its next round trip.
    const next = a!.acquire();
    await running;
    await next;

    const others = [...grantsB, ...grantsC];
    // Slots B and C reserved before the 429 may still go (at most one batch each, ~0.4 s of budget);
    // after that nothing until Retry-After has passed.
    const duringPause = others.filter((at) => at > throttledAt + 450 && at < throttledAt + 950);
    expect(duringPause).toHaveLength(0);
    expect(others.filter((at) => at >= throttledAt + 1_000).length).toBeGreaterThan(5);
    const [row] = await t.db.$queryRaw<{ ratePerSecond: number; throttledTotal: bigint }[]>`
      SELECT "ratePerSecond", "throttledTotal" FROM "RequestBudget" WHERE "connectionId" = ${connectionId}::uuid`;
    expect(Number(row?.throttledTotal)).toBe(1);
    // Halved to 10, then raised again by successes since (0.05 each), never above the ceiling.
    expect(row?.ratePerSecond).toBeGreaterThanOrEqual(10);
    expect(row?.ratePerSecond).toBeLessThan(20);
  });

  test("an aborted caller gives up its place and its slot", async () => {
    const connectionId = await newConnection();
    const limiter = new SharedRequestBudget({ db: clients[0]!, connectionId, ratePerSecond: 2 });
    await limiter.acquire();
    const controller = new AbortController();
    const abandoned = limiter.acquire(controller.signal);
    controller.abort(new Error("job cancelled"));
    await expect(abandoned).rejects.toThrow("job cancelled");
    const started = Date.now();
    await limiter.acquire();
    // The next caller inherits the abandoned slot (~0.5 s at 2/s), not one after it.
    expect(Date.now() - started).toBeLessThan(900);
  });
});
