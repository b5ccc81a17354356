import {
  DATE_INTERVALS,
  DateTimeFormatError,
  dateAdd,
  dateDiff,
  epochMillisecondsToFileTime,
  fileTimeToEpochMilliseconds,
  formatDotNetDateTime,
  isDateInterval,
  parseExactDotNet,
} from "../datetime";
import { EntraDateTime, toText } from "../values";
import { dateAt, integerAt, isProvided, parseInteger, textAt, valueAt } from "./arguments";
import type { CallContext, FunctionSpec } from "./registry";

function withDateErrors<T>(context: CallContext, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof DateTimeFormatError) return context.fail(error.message);
    throw error;
  }
}

function intervalAt(args: Parameters<FunctionSpec["evaluate"]>[0], context: CallContext) {
  const interval = textAt(args, 0);
  if (interval === null) return null;
  if (!isDateInterval(interval)) {
    context.fail(
      `interval must be one of ${DATE_INTERVALS.map((value) => `"${value}"`).join(", ")}, got "${interval}"`,
    );
  }
  return interval;
}

const HIRE_DATE = "2012-03-16-07:00";
/** Microsoft's "combine DateDiff with IIF" example (written on three lines on its page). */
const ACTIVE_HIRE_SWITCH =
  'Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")';

const CDATE: FunctionSpec = {
  name: "CDate",
  category: "Date and time",
  parameters: [
    {
      name: "expression",
      description: "A string representing a date/time (ISO 8601, M/d/yyyy h:mm:ss tt, RFC 1123...).",
    },
  ],
  summary:
    "Reads a date/time string into a UTC DateTime, exported as M/d/yyyy h:mm:ss tt; offsets in the input are converted to UTC.",
  nulls: "NULL gives NULL; a string that is not a date fails the evaluation.",
  examples: [
    {
      expression: "CDate([StatusHireDate])",
      source: { StatusHireDate: "2020-03-16-07:00" },
      output: "3/16/2020 7:00:00 AM",
      origin: "Microsoft",
    },
    { expression: 'CDate("2021-06-30+08:00")', output: "6/29/2021 4:00:00 PM", origin: "Microsoft" },
    { expression: 'CDate("2009-06-15T01:45:30-07:00")', output: "6/15/2009 8:45:30 AM", origin: "Microsoft" },
  ],
  evaluate(args, context) {
    const instant = dateAt(args, 0, "expression", context);
    return instant === null ? null : new EntraDateTime(instant);
  },
};

const DATE_ADD: FunctionSpec = {
  name: "DateAdd",
  category: "Date and time",
  parameters: [
    {
      name: "interval",
      description:
        'One of "yyyy" (year), "m" (month), "d" (day), "ww" (week), "h" (hour), "n" (minute), "s" (second).',
    },
    {
      name: "value",
      description: "Number of units to add; negative for the past. Whole units (truncated toward zero).",
    },
    { name: "dateTime", description: "The date, usually CDate(...) or Now()." },
  ],
  summary:
    "Adds a number of intervals to a date and returns M/d/yyyy h:mm:ss tt. Adding months or years keeps the day unless the month is shorter (Jan 31 + 1 month = Feb 28/29).",
  nulls: "Any NULL argument gives NULL.",
  examples: [
    {
      expression: 'DateAdd("d", 7, CDate([StatusHireDate]))',
      source: { StatusHireDate: HIRE_DATE },
      output: "3/23/2012 7:00:00 AM",
      origin: "Microsoft",
    },
    {
      expression: 'DateAdd("d", -10, CDate([StatusHireDate]))',
      source: { StatusHireDate: HIRE_DATE },
      output: "3/6/2012 7:00:00 AM",
      origin: "Microsoft",
    },
    {
      expression: 'DateAdd("ww", 2, CDate([StatusHireDate]))',
      source: { StatusHireDate: HIRE_DATE },
      output: "3/30/2012 7:00:00 AM",
      origin: "Microsoft",
    },
    {
      expression: 'DateAdd("m", 10, CDate([StatusHireDate]))',
      source: { StatusHireDate: HIRE_DATE },
      output: "1/16/2013 7:00:00 AM",
      origin: "Microsoft",
    },
    {
      expression: 'DateAdd("yyyy", 2, CDate([StatusHireDate]))',
      source: { StatusHireDate: HIRE_DATE },
      output: "3/16/2014 7:00:00 AM",
      origin: "Microsoft",
    },
    { expression: 'DateAdd("m", 1, CDate("2024-01-31"))', output: "2/29/2024 12:00:00 AM", origin: "ours" },
  ],
  evaluate(args, context) {
    const interval = intervalAt(args, context);
    const amount = integerAt(args, 1, "value", context);
    const instant = dateAt(args, 2, "dateTime", context);
    if (interval === null || amount === null || instant === null) return null;
    return withDateErrors(context, () => new EntraDateTime(dateAdd(interval, amount, instant)));
  },
};

const DATE_DIFF: FunctionSpec = {
  name: "DateDiff",
  category: "Date and time",
  parameters: [
    { name: "interval", description: 'One of "yyyy", "m", "d", "ww", "h", "n", "s".' },
    { name: "date1", description: "The earlier date for a positive result." },
    { name: "date2", description: "The later date for a positive result." },
  ],
  summary:
    "Returns date2 − date1 in the interval: positive when date2 is later, negative when earlier, 0 when equal. Days, hours, minutes and seconds count whole elapsed units; months and years count calendar boundaries; weeks count Sunday-based week starts (VBA DateDiff).",
  nulls: "Any NULL argument gives NULL.",
  examples: [
    {
      expression: 'DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))',
      output: 13,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))',
      output: -3449,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))',
      output: -493,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))',
      output: -113,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))',
      output: -9,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))',
      output: 0,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))',
      output: 24,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))',
      output: 1440,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))',
      output: 86400,
      origin: "Microsoft",
    },
    {
      expression: 'DateDiff("d", Now(), CDate([StatusHireDate]))',
      source: { StatusHireDate: "2021-09-01" },
      now: "2021-08-25T17:41:18Z",
      output: 6,
      origin: "Microsoft",
      note: "Microsoft's expression; the dates are ours.",
    },
    {
      expression: ACTIVE_HIRE_SWITCH,
      source: { Active: "1", StatusHireDate: "2021-08-28" },
      now: "2021-08-25T17:41:18Z",
      output: "True",
      origin: "Microsoft",
      note: "Hire date within five days: enable. Microsoft's expression; the dates are ours.",
    },
    {
      expression: ACTIVE_HIRE_SWITCH,
      source: { Active: "1", StatusHireDate: "2021-09-30" },
      now: "2021-08-25T17:41:18Z",
      output: "False",
      origin: "Microsoft",
      note: "Hire date more than five days away: keep disabled.",
    },
    {
      expression: ACTIVE_HIRE_SWITCH,
      source: { Active: "0", StatusHireDate: "2021-08-28" },
      now: "2021-08-25T17:41:18Z",
      output: "False",
      origin: "Microsoft",
    },
  ],
  evaluate(args, context) {
    const interval = intervalAt(args, context);
    const first = dateAt(args, 1, "date1", context);
    const second = dateAt(args, 2, "date2", context);
    if (interval === null || first === null || second === null) return null;
    return dateDiff(interval, first, second);
  },
};

const DATE_FROM_NUM: FunctionSpec = {
  name: "DateFromNum",
  category: "Date and time",
  parameters: [
    {
      name: "value",
      description: "An Active Directory date: 100-nanosecond intervals since 1601-01-01 UTC.",
    },
  ],
  summary: "Converts an Active Directory date number (FILETIME, e.g. lastLogonTimestamp) to a DateTime.",
  nulls:
    'NULL gives NULL; AD\'s "never" value 9223372036854775807 fails the evaluation (no DateTime represents it).',
  examples: [
    { expression: "DateFromNum(129699324000000000)", output: "1/1/2012 11:00:00 PM", origin: "Microsoft" },
    {
      expression: "DateFromNum([lastLogonTimestamp])",
      source: { lastLogonTimestamp: "129699324000000000" },
      output: "1/1/2012 11:00:00 PM",
      origin: "Microsoft",
    },
  ],
  evaluate(args, context) {
    const value = valueAt(args, 0);
    if (value === null) return null;
    const fileTime = parseInteger(value);
    if (fileTime === null || fileTime < 0n)
      return context.fail(`value must be a non-negative whole number, got ${JSON.stringify(toText(value))}`);
    return withDateErrors(context, () => new EntraDateTime(fileTimeToEpochMilliseconds(fileTime)));
  },
};

const NUM_FROM_DATE: FunctionSpec = {
  name: "NumFromDate",
  category: "Date and time",
  parameters: [{ name: "value", description: "Date/time string in ISO 8601 format (or a DateTime)." }],
  summary:
    "Converts a date to the Active Directory number format (FILETIME: 100 ns intervals since 1601-01-01 UTC), as accountExpires needs.",
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression:
        'NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
      source: { ContractEndDate: "2020-12-31-08:00" },
      output: 132539615990000000,
      origin: "Microsoft",
      note: "Microsoft gives the expression; the output is 2021-01-01T07:59:59Z as FILETIME.",
    },
    {
      expression:
        'NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))',
      source: { endDate: "12/31/2020 11:59:59 PM" },
      output: 132539615990000000,
      origin: "Microsoft",
      note: "Microsoft's SuccessFactors expression; the input value is ours.",
    },
    { expression: 'NumFromDate("2012-01-01T23:00:00Z")', output: 129699324000000000, origin: "ours" },
  ],
  evaluate(args, context) {
    const instant = dateAt(args, 0, "value", context);
    if (instant === null) return null;
    return Number(epochMillisecondsToFileTime(instant));
  },
};

const KNOWN_DATE_TIME_STYLES = new Set([
  "None",
  "AllowLeadingWhite",
  "AllowTrailingWhite",
  "AllowInnerWhite",
  "AllowWhiteSpaces",
  "NoCurrentDateDefault",
  "AdjustToUniversal",
  "AssumeLocal",
  "AssumeUniversal",
  "RoundtripKind",
]);

const FORMAT_DATE_TIME: FunctionSpec = {
  name: "FormatDateTime",
  category: "Date and time",
  parameters: [
    { name: "source", description: "Usually an attribute holding a date string." },
    {
      name: "dateTimeStyles",
      optional: true,
      description:
        "Comma-separated .NET DateTimeStyles names; empty means RoundtripKind, AllowLeadingWhite, AllowTrailingWhite. All times are UTC here, so the styles only affect white space.",
    },
    {
      name: "inputFormat",
      description: ".NET custom or standard format the source is in, e.g. yyyyMMddHHmmss.fZ.",
    },
    { name: "outputFormat", description: ".NET custom or standard format of the result, e.g. yyyy-MM-dd." },
  ],
  argumentRange: { min: 3, max: 4 },
  summary:
    "Reads a date in one .NET format (DateTime.ParseExact, invariant culture) and writes it in another. With three arguments the dateTimeStyles parameter is left out.",
  nulls: "NULL source gives NULL; a source that does not match inputFormat fails the evaluation.",
  examples: [
    {
      expression: 'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
      source: { extensionAttribute1: "20150123105347.1Z" },
      output: "2015-01-23",
      origin: "Microsoft",
    },
    {
      expression: 'FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")',
      source: { endDate: "12/31/2020 11:59:59 PM" },
      output: "2020-12-31",
      origin: "Microsoft",
      note: "Microsoft gives the expression; the input value is ours.",
    },
    {
      expression: 'FormatDateTime([hireDate], "yyyy-MM-ddTHH:mm:sszzz", "dddd, d MMMM yyyy HH:mm")',
      source: { hireDate: "2021-06-30T10:15:00+02:00" },
      output: "Wednesday, 30 June 2021 08:15",
      origin: "ours",
    },
  ],
  evaluate(args, context) {
    const hasStyles = args.length === 4;
    const source = valueAt(args, 0);
    if (source === null) return null;
    const sourceText = source instanceof EntraDateTime ? source.toString() : toText(source);
    if (sourceText === null) return null;
    if (hasStyles && isProvided(args, 1)) {
      const styles = (textAt(args, 1) ?? "")
        .split(/[,|]/)
        .map((style) => style.trim().replace(/^DateTimeStyles\./, ""));
      for (const style of styles) {
        if (style !== "" && !KNOWN_DATE_TIME_STYLES.has(style))
          return context.fail(`"${style}" is not a DateTimeStyles value`);
      }
    }
    const inputFormat = textAt(args, hasStyles ? 2 : 1);
    const outputFormat = textAt(args, hasStyles ? 3 : 2);
    if (inputFormat === null || outputFormat === null)
      return context.fail("inputFormat and outputFormat are required");
    return withDateErrors(context, () =>
      formatDotNetDateTime(parseExactDotNet(sourceText, inputFormat), outputFormat),
    );
  },
};

const NOW: FunctionSpec = {
  name: "Now",
  category: "Date and time",
  parameters: [],
  summary: "The current UTC date and time, exported as M/d/yyyy h:mm:ss tt.",
  nulls: "Never NULL.",
  examples: [
    { expression: "Now()", now: "2021-07-02T15:33:38Z", output: "7/2/2021 3:33:38 PM", origin: "Microsoft" },
  ],
  evaluate(_args, context) {
    return new EntraDateTime(context.now.getTime());
  },
};

export const DATE_FUNCTIONS: readonly FunctionSpec[] = [
  CDATE,
  DATE_ADD,
  DATE_DIFF,
  DATE_FROM_NUM,
  NUM_FROM_DATE,
  FORMAT_DATE_TIME,
  NOW,
];
