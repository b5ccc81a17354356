import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startGraphEmulator, type RunningGraphEmulator } from "./server";
import { admin, followAll, getToken } from "./testing";

describe("100,000 users", { timeout: 180_000 }, () => {
  let emulator: RunningGraphEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startGraphEmulator({ seed: { users: 100_000, groups: 2_000 } });
    token = await getToken(emulator);
  }, 120_000);
  afterAll(() => emulator.close());

  test("pages through all users with $top=999 and a full delta round", async () => {
    let started = performance.now();
    const list = await followAll(
      emulator,
      "/v1.0/users?$top=999&$select=id,userPrincipalName,accountEnabled",
      token,
    );
    console.info(
      `listed ${list.items.length} users in ${list.pages} pages, ${Math.round(performance.now() - started)} ms`,
    );
    expect(list.items).toHaveLength(99_999);
    expect(new Set(list.items.map((u) => u.id)).size).toBe(99_999);
    expect(list.pages).toBe(101);

    started = performance.now();
    const delta = await followAll(emulator, "/v1.0/users/delta?$select=displayName,department", token);
    console.info(
      `delta round: ${delta.items.length} users in ${delta.pages} pages, ${Math.round(performance.now() - started)} ms`,
    );
    expect(delta.items).toHaveLength(99_999);

    const someone = list.items[50_000]!.id as string;
    await admin(emulator, "PATCH", `/users/${someone}`, { department: "Research" });
    const changes = await followAll(emulator, delta.deltaLink!, token);
    expect(changes.items).toEqual([expect.objectContaining({ id: someone, department: "Research" })]);
  });
});
