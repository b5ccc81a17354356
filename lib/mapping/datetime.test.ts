import { describe, expect, test } from "vitest";
import {
  DateTimeFormatError,
  dateAdd,
  dateDiff,
  formatDotNetDateTime,
  parseDateTimeLoose,
  parseExactDotNet,
} from "./datetime";

const at = (iso: string): number => Date.parse(iso);

describe(".NET date formats", () => {
  test.each([
    ["2009-06-15T13:45:30.617Z", "M/d/yyyy h:mm:ss tt", "6/15/2009 1:45:30 PM"],
    ["2009-06-15T00:05:03Z", "M/d/yyyy h:mm:ss tt", "6/15/2009 12:05:03 AM"],
    ["2009-06-15T13:45:30.617Z", "yyyy-MM-ddTHH:mm:ss.fffK", "2009-06-15T13:45:30.617Z"],
    ["2009-06-15T13:45:30.600Z", "HH:mm:ss.FFF", "13:45:30.6"],
    ["2009-06-15T13:45:30.000Z", "HH:mm:ss.FFF", "13:45:30"],
    ["2009-06-15T13:45:30Z", "dddd, MMMM d, yyyy", "Monday, June 15, 2009"],
    ["2009-06-15T13:45:30Z", "ddd dd MMM yy", "Mon 15 Jun 09"],
    ["2009-06-15T13:45:30Z", "'Day' d \\o\\f MMMM", "Day 15 of June"],
    ["2009-06-15T13:45:30Z", "yyyyMMddHHmmss", "20090615134530"],
    ["2009-06-15T13:45:30Z", "o", "2009-06-15T13:45:30.0000000Z"],
    ["2009-06-15T13:45:30Z", "s", "2009-06-15T13:45:30"],
    ["2009-06-15T13:45:30Z", "d", "06/15/2009"],
    ["2009-06-15T13:45:30Z", "R", "Mon, 15 Jun 2009 13:45:30 GMT"],
    ["2009-06-15T13:45:30Z", "zzz", "+00:00"],
  ])("%s formatted with %j is %j", (iso, format, expected) => {
    expect(formatDotNetDateTime(at(iso), format)).toBe(expected);
  });

  test.each([
    ["20150123105347.1Z", "yyyyMMddHHmmss.fZ", "2015-01-23T10:53:47.100Z"],
    ["2020-12-31-08:00", "yyyy-MM-ddzzz", "2020-12-31T08:00:00.000Z"],
    ["12/31/2020 11:59:59 PM", "M/d/yyyy hh:mm:ss tt", "2020-12-31T23:59:59.000Z"],
    ["  1/2/20  ", "M/d/yy", "2020-01-02T00:00:00.000Z"],
    ["15-Jun-2009", "dd-MMM-yyyy", "2009-06-15T00:00:00.000Z"],
  ])("ParseExact(%j, %j) is %s", (text, format, iso) => {
    expect(new Date(parseExactDotNet(text, format)).toISOString()).toBe(iso);
  });

  test.each([
    ["2020-02-30", "yyyy-MM-dd"],
    ["2020-1-01", "yyyy-MM-dd"],
    ["2020-01-01 extra", "yyyy-MM-dd"],
    ["13:00 PM", "hh:mm tt"],
  ])("ParseExact(%j, %j) fails", (text, format) => {
    expect(() => parseExactDotNet(text, format)).toThrow(DateTimeFormatError);
  });

  test.each([
    ["2020-03-16-07:00", "2020-03-16T07:00:00.000Z"],
    ["2021-06-30+08:00", "2021-06-29T16:00:00.000Z"],
    ["2009-06-15T01:45:30-07:00", "2009-06-15T08:45:30.000Z"],
    ["8/25/2021 5:41:18 PM", "2021-08-25T17:41:18.000Z"],
    ["2021/08/24", "2021-08-24T00:00:00.000Z"],
    ["Mon, 15 Jun 2009 20:45:30 GMT", "2009-06-15T20:45:30.000Z"],
    ["June 15, 2009", "2009-06-15T00:00:00.000Z"],
  ])("CDate reads %j as %s", (text, iso) => {
    expect(new Date(parseDateTimeLoose(text)).toISOString()).toBe(iso);
  });

  test("month arithmetic clamps to the end of a shorter month, as DateTime.AddMonths does", () => {
    expect(new Date(dateAdd("m", 1, at("2023-01-31T00:00:00Z"))).toISOString()).toBe(
      "2023-02-28T00:00:00.000Z",
    );
    expect(new Date(dateAdd("yyyy", 1, at("2024-02-29T00:00:00Z"))).toISOString()).toBe(
      "2025-02-28T00:00:00.000Z",
    );
    expect(dateDiff("m", at("2021-01-31T00:00:00Z"), at("2021-02-01T00:00:00Z"))).toBe(1);
    expect(dateDiff("d", at("2021-01-31T00:00:00Z"), at("2021-02-01T23:59:59Z"))).toBe(1);
  });
});
