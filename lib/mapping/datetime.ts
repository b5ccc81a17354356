/**
 * Date handling with .NET semantics, because Entra's date functions are thin wrappers over .NET:
 * FormatDateTime is DateTime.ParseExact + DateTime.ToString with custom/standard format strings in the
 * invariant culture, CDate is DateTime.Parse, and every DateTime leaves an expression as
 * "M/d/yyyy h:mm:ss tt". The provisioning service runs in UTC, so "local" time is UTC here: offsets in the
 * input are applied and every output is UTC. Precision is milliseconds (.NET keeps 100 ns ticks; digits
 * beyond the third fraction digit are read and dropped).
 */

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
/** Milliseconds between 1601-01-01 (Windows FILETIME epoch) and 1970-01-01. */
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000n;
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

export class DateTimeFormatError extends Error {
  override readonly name = "DateTimeFormatError";
}

interface DateParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(
    utcMilliseconds({ year, month: month + 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }) -
      MS_PER_DAY,
  ).getUTCDate();
}

/** Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not, so years 1-99 stay what they are. */
export function utcMilliseconds(parts: DateParts): number {
  const date = new Date(0);
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  date.setUTCHours(parts.hour, parts.minute, parts.second, parts.millisecond);
  return date.getTime();
}

function partsOf(epochMilliseconds: number): DateParts & { dayOfWeek: number } {
  const date = new Date(epochMilliseconds);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    millisecond: date.getUTCMilliseconds(),
    dayOfWeek: date.getUTCDay(),
  };
}

export function assertRepresentable(epochMilliseconds: number): number {
  if (!Number.isFinite(epochMilliseconds)) throw new DateTimeFormatError("the date is out of range");
  const year = new Date(epochMilliseconds).getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new DateTimeFormatError(`the year ${year} is outside .NET's DateTime range 1-9999`);
  }
  return epochMilliseconds;
}

/** Entra's output format for every DateTime: M/d/yyyy h:mm:ss tt (e.g. "3/16/2020 7:00:00 AM"). */
export function formatEntraDateTime(epochMilliseconds: number): string {
  return formatDotNetDateTime(epochMilliseconds, "M/d/yyyy h:mm:ss tt");
}

// ---------------------------------------------------------------------------------------------------
// Format strings

type FormatToken = { kind: "field"; letter: string; count: number } | { kind: "literal"; text: string };

const FIELD_LETTERS = new Set(["d", "f", "F", "g", "h", "H", "K", "m", "M", "s", "t", "y", "z"]);

/** Invariant-culture expansions of .NET's one-letter standard format strings. */
const STANDARD_FORMATS: Record<string, string> = {
  d: "MM/dd/yyyy",
  D: "dddd, dd MMMM yyyy",
  f: "dddd, dd MMMM yyyy HH:mm",
  F: "dddd, dd MMMM yyyy HH:mm:ss",
  g: "MM/dd/yyyy HH:mm",
  G: "MM/dd/yyyy HH:mm:ss",
  m: "MMMM dd",
  M: "MMMM dd",
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: "HH:mm",
  T: "HH:mm:ss",
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: "dddd, dd MMMM yyyy HH:mm:ss",
  y: "yyyy MMMM",
  Y: "yyyy MMMM",
};

export function tokenizeDotNetFormat(format: string): FormatToken[] {
  const expanded = format.length === 1 ? STANDARD_FORMATS[format] : undefined;
  if (format.length === 1 && expanded === undefined) {
    throw new DateTimeFormatError(`"${format}" is not a standard .NET date format`);
  }
  const pattern = expanded ?? format;
  const tokens: FormatToken[] = [];
  const pushLiteral = (text: string): void => {
    const last = tokens[tokens.length - 1];
    if (last?.kind === "literal") last.text += text;
    else tokens.push({ kind: "literal", text });
  };
  let index = 0;
  while (index < pattern.length) {
    const char = pattern.charAt(index);
    if (char === "'" || char === '"') {
      const close = pattern.indexOf(char, index + 1);
      if (close < 0) throw new DateTimeFormatError(`unterminated quoted text in format "${format}"`);
      pushLiteral(pattern.slice(index + 1, close));
      index = close + 1;
    } else if (char === "\\") {
      if (index + 1 >= pattern.length)
        throw new DateTimeFormatError(`format "${format}" ends with an escape character`);
      pushLiteral(pattern.charAt(index + 1));
      index += 2;
    } else if (char === "%") {
      // "%d" means the custom specifier d on its own, not the standard format "d".
      index++;
    } else if (FIELD_LETTERS.has(char)) {
      let count = 1;
      while (pattern.charAt(index + count) === char) count++;
      tokens.push({ kind: "field", letter: char, count });
      index += count;
    } else {
      pushLiteral(char);
      index++;
    }
  }
  return tokens;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

export function formatDotNetDateTime(epochMilliseconds: number, format: string): string {
  const parts = partsOf(epochMilliseconds);
  let output = "";
  for (const token of tokenizeDotNetFormat(format)) {
    if (token.kind === "literal") {
      output += token.text;
      continue;
    }
    const { letter, count } = token;
    switch (letter) {
      case "d":
        if (count === 1) output += String(parts.day);
        else if (count === 2) output += pad(parts.day, 2);
        else if (count === 3) output += (DAY_NAMES[parts.dayOfWeek] ?? "").slice(0, 3);
        else output += DAY_NAMES[parts.dayOfWeek] ?? "";
        break;
      case "f":
      case "F": {
        if (count > 7)
          throw new DateTimeFormatError(`"${letter.repeat(count)}" has more than 7 fraction digits`);
        let digits = pad(parts.millisecond, 3).padEnd(7, "0").slice(0, count);
        if (letter === "F") {
          digits = digits.replace(/0+$/, "");
          if (digits === "" && output.endsWith(".")) output = output.slice(0, -1);
        }
        output += digits;
        break;
      }
      case "g":
        output += "A.D.";
        break;
      case "h":
        output += count === 1 ? String(parts.hour % 12 || 12) : pad(parts.hour % 12 || 12, 2);
        break;
      case "H":
        output += count === 1 ? String(parts.hour) : pad(parts.hour, 2);
        break;
      case "K":
        output += "Z";
        break;
      case "m":
        output += count === 1 ? String(parts.minute) : pad(parts.minute, 2);
        break;
      case "M":
        if (count === 1) output += String(parts.month);
        else if (count === 2) output += pad(parts.month, 2);
        else if (count === 3) output += (MONTH_NAMES[parts.month - 1] ?? "").slice(0, 3);
        else output += MONTH_NAMES[parts.month - 1] ?? "";
        break;
      case "s":
        output += count === 1 ? String(parts.second) : pad(parts.second, 2);
        break;
      case "t":
        output += count === 1 ? (parts.hour < 12 ? "A" : "P") : parts.hour < 12 ? "AM" : "PM";
        break;
      case "y":
        if (count === 1) output += String(parts.year % 100);
        else if (count === 2) output += pad(parts.year % 100, 2);
        else output += pad(parts.year, count);
        break;
      case "z":
        output += count === 1 ? "+0" : count === 2 ? "+00" : "+00:00";
        break;
    }
  }
  return output;
}

// ---------------------------------------------------------------------------------------------------
// ParseExact

interface ParsedFields {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  hour12?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  millisecond?: number;
  offsetMinutes?: number;
}

function twoDigitYear(value: number): number {
  // .NET's invariant calendar: TwoDigitYearMax = 2049.
  return value <= 49 ? 2000 + value : 1900 + value;
}

/**
 * DateTime.ParseExact(text, format, InvariantCulture, styles). Entra's default styles are RoundtripKind,
 * AllowLeadingWhite and AllowTrailingWhite, so surrounding white space is ignored.
 */
export function parseExactDotNet(text: string, format: string): number {
  const tokens = tokenizeDotNetFormat(format);
  const input = text.trim();
  const fields: ParsedFields = {};
  let position = 0;
  const fail = (what: string): never => {
    throw new DateTimeFormatError(
      `"${text}" does not match the format "${format}" (${what} at character ${position + 1})`,
    );
  };
  const readDigits = (min: number, max: number, what: string): number => {
    let end = position;
    while (end < input.length && end - position < max && /[0-9]/.test(input.charAt(end))) end++;
    if (end - position < min) fail(`expected ${what}`);
    const value = Number(input.slice(position, end));
    position = end;
    return value;
  };
  const readName = (names: readonly string[], abbreviated: boolean, what: string): number => {
    for (let index = 0; index < names.length; index++) {
      const name = abbreviated ? (names[index] ?? "").slice(0, 3) : (names[index] ?? "");
      if (input.slice(position, position + name.length).toLowerCase() === name.toLowerCase()) {
        position += name.length;
        return index;
      }
    }
    return fail(`expected ${what}`);
  };

  for (const token of tokens) {
    if (token.kind === "literal") {
      for (const char of token.text) {
        if (char === " ") {
          if (input.charAt(position) !== " ") fail('expected " "');
          while (input.charAt(position) === " ") position++;
          continue;
        }
        if (input.charAt(position) !== char) fail(`expected "${char}"`);
        position++;
      }
      continue;
    }
    const { letter, count } = token;
    switch (letter) {
      case "d":
        if (count <= 2) fields.day = readDigits(count, 2, "a day");
        else readName(DAY_NAMES, count === 3, "a day name");
        break;
      case "M":
        if (count <= 2) fields.month = readDigits(count, 2, "a month");
        else fields.month = readName(MONTH_NAMES, count === 3, "a month name") + 1;
        break;
      case "y":
        if (count <= 2) fields.year = twoDigitYear(readDigits(count, 2, "a year"));
        else fields.year = readDigits(count, Math.max(count, 4), "a year");
        break;
      case "h":
        fields.hour12 = readDigits(count, 2, "an hour");
        break;
      case "H":
        fields.hour = readDigits(count, 2, "an hour");
        break;
      case "m":
        fields.minute = readDigits(count, 2, "minutes");
        break;
      case "s":
        fields.second = readDigits(count, 2, "seconds");
        break;
      case "f":
      case "F": {
        const start = position;
        readDigits(letter === "f" ? count : 0, count, "fraction digits");
        const digits = input.slice(start, position);
        fields.millisecond = digits === "" ? 0 : Math.floor(Number(`0.${digits}`) * 1000 + 1e-9);
        break;
      }
      case "t": {
        const designator = input.slice(position, position + count).toUpperCase();
        if (
          count === 1 ? designator !== "A" && designator !== "P" : designator !== "AM" && designator !== "PM"
        ) {
          fail("expected AM or PM");
        }
        fields.pm = designator.startsWith("P");
        position += count === 1 ? 1 : 2;
        break;
      }
      case "z":
      case "K": {
        if (letter === "K" && (input.charAt(position) === "Z" || position >= input.length)) {
          if (input.charAt(position) === "Z") {
            fields.offsetMinutes = 0;
            position++;
          }
          break;
        }
        const sign = input.charAt(position);
        if (sign !== "+" && sign !== "-") fail("expected a time zone offset");
        position++;
        const hours = readDigits(count === 1 ? 1 : 2, 2, "offset hours");
        let minutes = 0;
        if (count >= 3 || letter === "K") {
          if (input.charAt(position) !== ":") fail('expected ":" in the offset');
          position++;
          minutes = readDigits(2, 2, "offset minutes");
        }
        fields.offsetMinutes = (sign === "-" ? -1 : 1) * (hours * 60 + minutes);
        break;
      }
      case "g":
        if (input.slice(position, position + 4).toUpperCase() === "A.D.") position += 4;
        else if (input.slice(position, position + 2).toUpperCase() === "AD") position += 2;
        else fail("expected an era");
        break;
    }
  }
  if (position !== input.length) fail("unexpected trailing text");
  return composeParsed(fields, text);
}

function composeParsed(fields: ParsedFields, original: string): number {
  let hour = fields.hour ?? 0;
  if (fields.hour12 !== undefined) {
    if (fields.hour12 < 1 || fields.hour12 > 12)
      throw new DateTimeFormatError(`"${original}" has an hour outside 1-12`);
    hour = (fields.hour12 % 12) + (fields.pm ? 12 : 0);
  } else if (fields.pm !== undefined && fields.hour !== undefined && fields.pm && hour < 12) {
    hour += 12;
  }
  // .NET fills a missing date with today's date only when no date part is given at all; Entra formats
  // always carry a date, so a missing part defaults to 1 (as .NET does for a partial date).
  const parts: DateParts = {
    year: fields.year ?? 1,
    month: fields.month ?? 1,
    day: fields.day ?? 1,
    hour,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
    millisecond: fields.millisecond ?? 0,
  };
  validateParts(parts, original);
  const local = utcMilliseconds(parts);
  return assertRepresentable(local - (fields.offsetMinutes ?? 0) * MS_PER_MINUTE);
}

function validateParts(parts: DateParts, original: string): void {
  const invalid =
    parts.year < MIN_YEAR ||
    parts.year > MAX_YEAR ||
    parts.month < 1 ||
    parts.month > 12 ||
    parts.day < 1 ||
    parts.day > daysInMonth(parts.year, parts.month) ||
    parts.hour > 23 ||
    parts.minute > 59 ||
    parts.second > 59;
  if (invalid) throw new DateTimeFormatError(`"${original}" is not a valid date`);
}

// ---------------------------------------------------------------------------------------------------
// DateTime.Parse (CDate)

const OFFSET = String.raw`(Z|GMT|UTC|[+-]\d{1,2}(?::?\d{2})?)?`;
const TIME = String.raw`(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?\s*(AM|PM|am|pm)?)?`;
const ISO_DATE = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})${TIME}\s*${OFFSET}$`);
const SLASH_DATE_YEAR_FIRST = new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})${TIME}\s*${OFFSET}$`);
const US_DATE = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})${TIME}\s*${OFFSET}$`);
const MONTH_PATTERN = MONTH_NAMES.map((name) => `${name.slice(0, 3)}(?:${name.slice(3)})?`).join("|");
const DAY_MONTH_YEAR = new RegExp(
  String.raw`^(?:[A-Za-z]+,?\s+)?(\d{1,2})\s+(${MONTH_PATTERN})\.?,?\s+(\d{4})${TIME}\s*${OFFSET}$`,
  "i",
);
const MONTH_DAY_YEAR = new RegExp(
  String.raw`^(?:[A-Za-z]+,?\s+)?(${MONTH_PATTERN})\.?\s+(\d{1,2}),?\s+(\d{4})${TIME}\s*${OFFSET}$`,
  "i",
);

function parseOffset(text: string | undefined): number {
  if (!text || text === "Z" || text === "GMT" || text === "UTC") return 0;
  const match = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(text);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === "-" ? -minutes : minutes;
}

function monthFromName(name: string): number {
  const prefix = name.slice(0, 3).toLowerCase();
  return MONTH_NAMES.findIndex((month) => month.slice(0, 3).toLowerCase() === prefix) + 1;
}

/**
 * The date forms DateTime.Parse accepts in the invariant culture and that show up in Entra data:
 * ISO 8601 (with or without time, with an offset right after the date as Workday sends "2020-03-16-07:00"),
 * US "M/d/yyyy h:mm:ss tt" (Entra's own output, so Now() and CDate() results can be fed back), "yyyy/MM/dd",
 * RFC 1123 and "15 June 2009" / "June 15, 2009". Anything else is an error rather than a guess.
 */
export function parseDateTimeLoose(text: string): number {
  const input = text.trim();
  const build = (
    year: number,
    month: number,
    day: number,
    groups: (string | undefined)[],
    offsetText: string | undefined,
  ): number => {
    const [hourText, minuteText, secondText, fractionText, designator] = groups;
    let hour = hourText === undefined ? 0 : Number(hourText);
    if (designator) {
      if (hour < 1 || hour > 12) throw new DateTimeFormatError(`"${text}" has an hour outside 1-12`);
      hour = (hour % 12) + (designator.toUpperCase() === "PM" ? 12 : 0);
    }
    const parts: DateParts = {
      year,
      month,
      day,
      hour,
      minute: minuteText === undefined ? 0 : Number(minuteText),
      second: secondText === undefined ? 0 : Number(secondText),
      millisecond: fractionText === undefined ? 0 : Math.floor(Number(`0.${fractionText}`) * 1000 + 1e-9),
    };
    validateParts(parts, text);
    return assertRepresentable(utcMilliseconds(parts) - parseOffset(offsetText) * MS_PER_MINUTE);
  };
  let match = ISO_DATE.exec(input) ?? SLASH_DATE_YEAR_FIRST.exec(input);
  if (match) {
    return build(Number(match[1]), Number(match[2]), Number(match[3]), match.slice(4, 9), match[9]);
  }
  match = US_DATE.exec(input);
  if (match) return build(Number(match[3]), Number(match[1]), Number(match[2]), match.slice(4, 9), match[9]);
  match = DAY_MONTH_YEAR.exec(input);
  if (match) {
    return build(
      Number(match[3]),
      monthFromName(match[2] ?? ""),
      Number(match[1]),
      match.slice(4, 9),
      match[9],
    );
  }
  match = MONTH_DAY_YEAR.exec(input);
  if (match) {
    return build(
      Number(match[3]),
      monthFromName(match[1] ?? ""),
      Number(match[2]),
      match.slice(4, 9),
      match[9],
    );
  }
  throw new DateTimeFormatError(
    `"${text}" is not a date/time string (accepted: ISO 8601 such as 2021-06-30T10:00:00+08:00, M/d/yyyy h:mm:ss tt, yyyy/MM/dd, RFC 1123)`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Arithmetic

export type DateInterval = "yyyy" | "m" | "d" | "ww" | "h" | "n" | "s";
export const DATE_INTERVALS: readonly DateInterval[] = ["yyyy", "m", "d", "ww", "h", "n", "s"];

export function isDateInterval(value: string): value is DateInterval {
  return (DATE_INTERVALS as readonly string[]).includes(value);
}

function addMonths(epochMilliseconds: number, months: number): number {
  const parts = partsOf(epochMilliseconds);
  const totalMonths = parts.year * 12 + (parts.month - 1) + months;
  const year = Math.floor(totalMonths / 12);
  const month = (totalMonths % 12) + 1;
  if (year < MIN_YEAR || year > MAX_YEAR)
    throw new DateTimeFormatError(`the year ${year} is outside .NET's DateTime range 1-9999`);
  // DateTime.AddMonths keeps the day unless the new month is shorter (Jan 31 + 1 month = Feb 28/29).
  const day = Math.min(parts.day, daysInMonth(year, month));
  return utcMilliseconds({ ...parts, year, month, day });
}

/** VB's DateAdd: whole units (the number is truncated toward zero, as DateAdd converts it to a Long). */
export function dateAdd(interval: DateInterval, amount: number, epochMilliseconds: number): number {
  const units = Math.trunc(amount);
  const unitMs: Record<"d" | "ww" | "h" | "n" | "s", number> = {
    d: MS_PER_DAY,
    ww: 7 * MS_PER_DAY,
    h: 3_600_000,
    n: MS_PER_MINUTE,
    s: 1000,
  };
  if (interval === "yyyy") return assertRepresentable(addMonths(epochMilliseconds, units * 12));
  if (interval === "m") return assertRepresentable(addMonths(epochMilliseconds, units));
  return assertRepresentable(epochMilliseconds + units * unitMs[interval]);
}

/**
 * VB's DateDiff, which Entra's table of examples follows: elapsed time truncated for d/h/n/s, calendar
 * boundaries for months and years, and Sunday-to-Sunday week starts for "ww"
 * (8/25/2021 5:41:18 PM → 2012-03-16-07:00 is -3449 days but -493 weeks).
 */
export function dateDiff(interval: DateInterval, first: number, second: number): number {
  const elapsed = second - first;
  const a = partsOf(first);
  const b = partsOf(second);
  switch (interval) {
    case "yyyy":
      return b.year - a.year;
    case "m":
      return (b.year - a.year) * 12 + (b.month - a.month);
    case "ww": {
      const startOfWeek = (parts: DateParts & { dayOfWeek: number }): number =>
        utcMilliseconds({ ...parts, hour: 0, minute: 0, second: 0, millisecond: 0 }) -
        parts.dayOfWeek * MS_PER_DAY;
      return Math.round((startOfWeek(b) - startOfWeek(a)) / (7 * MS_PER_DAY));
    }
    case "d":
      return Math.trunc(elapsed / MS_PER_DAY);
    case "h":
      return Math.trunc(elapsed / 3_600_000);
    case "n":
      return Math.trunc(elapsed / MS_PER_MINUTE);
    case "s":
      return Math.trunc(elapsed / 1000);
  }
}

/** Active Directory FILETIME (100 ns intervals since 1601-01-01 UTC) → epoch milliseconds. */
export function fileTimeToEpochMilliseconds(fileTime: bigint): number {
  return assertRepresentable(Number(fileTime / 10_000n - FILETIME_EPOCH_OFFSET_MS));
}

export function epochMillisecondsToFileTime(epochMilliseconds: number): bigint {
  return (BigInt(Math.trunc(epochMilliseconds)) + FILETIME_EPOCH_OFFSET_MS) * 10_000n;
}
