import { expect, test } from "vitest";
import { DialpadCompany } from "./company";
import { userBody } from "./testing";

test("100,000 users: filter lookups use the indexes", { timeout: 120_000 }, () => {
  const company = new DialpadCompany();
  for (let i = 0; i < 100_000; i++) {
    company.createUser(userBody(`user${i}@scale.example`, { externalId: `ext-${i}` }));
  }
  expect(company.users.size).toBe(100_000);
  expect(company.seats().used).toBe(100_000);

  const started = performance.now();
  for (let i = 0; i < 1_000; i++) {
    const n = (i * 97) % 100_000;
    const byName = company.listUsers({ filter: `userName eq "USER${n}@scale.example"` });
    const byExternal = company.listUsers({ filter: `externalId eq "ext-${n}"` });
    expect(byName.totalResults).toBe(1);
    expect(byExternal.resources[0]?.attributes.userName).toBe(`user${n}@scale.example`);
  }
  // 2,000 indexed lookups; a scan over 100k users each time would take many seconds.
  expect(performance.now() - started).toBeLessThan(5_000);

  const last = company.listUsers({ startIndex: 99_951, count: 100 });
  expect(last.resources).toHaveLength(50);
  expect(last.resources.at(-1)?.attributes.userName).toBe("user99999@scale.example");
});
