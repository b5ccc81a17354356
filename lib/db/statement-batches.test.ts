import { describe, expect, it } from "vitest";
import { statementBatches } from "./statement-batches";

const rows = (...sizes: number[]) => sizes.map((size) => "x".repeat(size));

describe("statementBatches", () => {
  it.each([
    { name: "no rows", payloads: rows(), batches: [] },
    { name: "small rows share one statement", payloads: rows(10, 10, 10), batches: [[0, 3]] },
    {
      name: "a statement is cut before it passes 1.5 million characters",
      payloads: rows(700_000, 700_000, 700_000, 700_000, 700_000),
      batches: [
        [0, 2],
        [2, 4],
        [4, 5],
      ],
    },
    {
      name: "a row bigger than the bound still goes, alone",
      payloads: rows(10, 2_000_000, 10),
      batches: [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    },
  ])("$name", ({ payloads, batches }) => {
    expect(statementBatches(payloads)).toEqual(batches);
  });

  it("puts at most 50 rows in one statement", () => {
    expect(statementBatches(rows(...Array<number>(120).fill(1)))).toEqual([
      [0, 50],
      [50, 100],
      [100, 120],
    ]);
  });
});
