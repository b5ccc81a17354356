import { expect, test } from "vitest";
import { csvCell } from "./logs-export";

test.each([
  ["Zoë Ångström", '"Zoë Ångström"'],
  ['He said "hi"', '"He said ""hi"""'],
  ['=HYPERLINK("http://evil")', '"\'=HYPERLINK(""http://evil"")"'],
  ["+1 415 555 0100", '"\'+1 415 555 0100"'],
  ["@SUM(A1)", '"\'@SUM(A1)"'],
  [null, ""],
  [{ a: 1 }, '"{""a"":1}"'],
])("CSV cell %s is quoted and never a formula", (value, expected) => {
  expect(csvCell(value)).toBe(expected);
});
