import { AppRoleValue, EntraDateTime, scalarToText, toText, toValueList } from "../values";
import { argumentAt, integerAt, textAt, valueAt } from "./arguments";
import type { FunctionSpec } from "./registry";

const APPEND: FunctionSpec = {
  name: "Append",
  category: "Text",
  parameters: [
    { name: "source", description: "Usually an attribute of the source object." },
    { name: "suffix", description: "The string appended to the end of the source value." },
  ],
  summary: "Takes a source string value and appends the suffix to the end of it.",
  nulls: "A NULL source gives NULL (nothing flows); a NULL suffix appends nothing.",
  examples: [
    {
      expression: 'Append([userPrincipalName], ".test")',
      source: { userPrincipalName: "John.Doe@contoso.com" },
      output: "John.Doe@contoso.com.test",
      origin: "Microsoft",
    },
    {
      expression: "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))",
      source: { givenName: "John", surname: "Doe" },
      output: "JohDoe",
      origin: "Microsoft",
    },
    { expression: 'Append([mail], "x")', source: {}, output: null, origin: "ours" },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    if (source === null) return null;
    return source + (textAt(args, 1) ?? "");
  },
};

const JOIN: FunctionSpec = {
  name: "Join",
  category: "Text",
  parameters: [
    { name: "separator", description: 'Placed between the joined values; may be "".' },
    {
      name: "source",
      repeating: true,
      description: "Values to join; a multi-valued attribute contributes every value.",
    },
  ],
  summary:
    "Joins several values into one string with a separator; a multi-valued source contributes each of its values.",
  nulls: "NULL and empty values are skipped (no doubled separators); NULL when every source is NULL.",
  examples: [
    {
      expression: 'Join(", ", "", [surname], [givenName])',
      source: { givenName: "John", surname: "Doe" },
      output: "Doe, John",
      origin: "Microsoft",
    },
    {
      expression: 'PCase(Join(" ",[firstName],[lastName]))',
      source: { firstName: "GREGORY", lastName: "JAMES" },
      output: "Gregory James",
      origin: "Microsoft",
    },
    {
      expression: 'Join(";", [proxyAddresses], [mail])',
      source: { proxyAddresses: ["SMTP:a@contoso.com", "smtp:b@contoso.com"], mail: "a@contoso.com" },
      output: "SMTP:a@contoso.com;smtp:b@contoso.com;a@contoso.com",
      origin: "ours",
    },
  ],
  evaluate(args, context) {
    const separator = textAt(args, 0) ?? "";
    const parts: string[] = [];
    let anyValue = false;
    let length = 0;
    for (const argument of args.slice(1)) {
      for (const item of toValueList(argument.value)) {
        anyValue = true;
        const text = scalarToText(item);
        if (text === "") continue;
        // The separator is repeated per value, so the result can outgrow everything passed in.
        length += text.length + (parts.length > 0 ? separator.length : 0);
        context.ensureLength(length);
        parts.push(text);
      }
    }
    return anyValue ? parts.join(separator) : null;
  },
};

const LEFT: FunctionSpec = {
  name: "Left",
  category: "Text",
  parameters: [
    { name: "String", description: "The string to take characters from." },
    { name: "NumChars", description: "How many characters to return from the start." },
  ],
  summary:
    'Returns the first NumChars characters of a string: 0 gives "", a negative number gives the whole string, a number past the end gives the whole string.',
  nulls: 'A NULL string gives "" (as documented).',
  examples: [
    { expression: 'Left("John Doe", 3)', output: "Joh", origin: "Microsoft" },
    { expression: 'Left("John Doe", 0)', output: "", origin: "ours" },
    { expression: 'Left("John Doe", -1)', output: "John Doe", origin: "ours" },
    { expression: "Left([missing], 3)", source: {}, output: "", origin: "ours" },
  ],
  evaluate(args, context) {
    const source = textAt(args, 0);
    if (source === null) return "";
    const count = integerAt(args, 1, "NumChars", context);
    if (count === null) return null;
    if (count < 0) return source;
    return source.slice(0, count);
  },
};

/**
 * Microsoft added Len(source) in 2026 without a worked example in the sources we could read, so its
 * details follow the .NET String.Length and VBA Len it is modelled on: UTF-16 code units, NULL for NULL.
 */
const LEN: FunctionSpec = {
  name: "Len",
  category: "Text",
  parameters: [
    { name: "source", description: "String (usually an attribute) whose characters are counted." },
  ],
  summary:
    'Returns the number of characters in the string, counted as .NET String.Length does (UTF-16 code units, so an emoji counts 2). Useful in IIF conditions such as IIF(Len([userPrincipalName]) > 20, ...). Numbers and Booleans are counted in their text form ("True" is 4). Microsoft added Len in 2026 without a worked example we could check against, so these rules follow .NET String.Length and VBA Len.',
  nulls: 'NULL gives NULL (as VBA\'s Len does); "" gives 0; a multi-valued attribute counts its first value.',
  examples: [
    { expression: 'Len("John Doe")', output: 8, origin: "ours" },
    { expression: "Len([department])", source: { department: "" }, output: 0, origin: "ours" },
    { expression: "Len([department])", source: {}, output: null, origin: "ours" },
    {
      expression: "Len([proxyAddresses])",
      source: { proxyAddresses: ["SMTP:a@contoso.com", "smtp:bb@contoso.com"] },
      output: 18,
      origin: "ours",
    },
    // An emoji case (Len("😀") = 2) is asserted in functions.test.ts: emoji would misalign the generated docs table.
    {
      expression: "IIF(Len([userPrincipalName]) > 20, [givenName], [surname])",
      source: {
        userPrincipalName: "christopher.columbus@contoso.com",
        givenName: "Christopher",
        surname: "Columbus",
      },
      output: "Christopher",
      origin: "ours",
    },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    return source === null ? null : source.length;
  },
};

const MID: FunctionSpec = {
  name: "Mid",
  category: "Text",
  parameters: [
    { name: "source", description: "Usually an attribute." },
    { name: "start", description: "1-based index of the first character." },
    { name: "length", description: "Number of characters; past the end returns up to the end." },
  ],
  summary: "Returns a substring: length characters starting at the 1-based position start.",
  nulls: 'NULL source gives NULL; a start past the end gives "".',
  examples: [
    {
      expression: "Mid([givenName], 1, 3)",
      source: { givenName: "John" },
      output: "Joh",
      origin: "Microsoft",
    },
    { expression: 'Mid("Contoso", 4, 100)', output: "toso", origin: "ours" },
    { expression: 'Mid("Contoso", 9, 2)', output: "", origin: "ours" },
  ],
  evaluate(args, context) {
    const source = textAt(args, 0);
    if (source === null) return null;
    const start = integerAt(args, 1, "start", context);
    const length = integerAt(args, 2, "length", context);
    if (start === null || length === null) return null;
    if (start < 1) return context.fail(`start must be 1 or more (the first character is 1), got ${start}`);
    if (length < 0) return context.fail(`length must not be negative, got ${length}`);
    return source.slice(start - 1, start - 1 + length);
  },
};

const STRIP_SPACES: FunctionSpec = {
  name: "StripSpaces",
  category: "Text",
  parameters: [{ name: "source", description: "Value to remove spaces from." }],
  summary: 'Removes every space (" ") character from the string; other white space is kept.',
  nulls: "NULL gives NULL.",
  examples: [
    { expression: 'StripSpaces(" John  Doe ")', output: "JohnDoe", origin: "ours" },
    {
      expression:
        'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))',
      source: { PreferredFirstName: "John", PreferredLastName: "Smith" },
      output: "john.smith@contoso.com",
      origin: "Microsoft",
    },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    return source === null ? null : source.replaceAll(" ", "");
  },
};

function cultureCase(
  args: Parameters<FunctionSpec["evaluate"]>[0],
  context: Parameters<FunctionSpec["evaluate"]>[1],
  upper: boolean,
) {
  const source = textAt(args, 0);
  if (source === null) return null;
  const culture = textAt(args, 1);
  if (culture === null || culture === "") return upper ? source.toUpperCase() : source.toLowerCase();
  try {
    return upper ? source.toLocaleUpperCase(culture) : source.toLocaleLowerCase(culture);
  } catch {
    return context.fail(`"${culture}" is not a culture name (use the RFC 4646 form, e.g. en-US or tr-TR)`);
  }
}

const TO_LOWER: FunctionSpec = {
  name: "ToLower",
  category: "Text",
  parameters: [
    { name: "source", description: "Usually an attribute." },
    {
      name: "culture",
      optional: true,
      description: "RFC 4646 culture name such as tr-TR; invariant culture when absent.",
    },
  ],
  summary:
    "Converts a string to lower case using the culture's rules (invariant culture when none is given).",
  nulls: "NULL gives NULL.",
  examples: [
    { expression: 'ToLower("John.SMITH@Contoso.com")', output: "john.smith@contoso.com", origin: "ours" },
    { expression: 'ToLower("I", "tr-TR")', output: "ı", origin: "ours", note: "Turkish dotless i." },
  ],
  evaluate: (args, context) => cultureCase(args, context, false),
};

const TO_UPPER: FunctionSpec = {
  name: "ToUpper",
  category: "Text",
  parameters: [
    { name: "source", description: "Usually an attribute." },
    { name: "culture", optional: true, description: "RFC 4646 culture name; invariant culture when absent." },
  ],
  summary:
    "Converts a string to upper case using the culture's rules (invariant culture when none is given).",
  nulls: "NULL gives NULL.",
  examples: [
    { expression: "ToUpper([department])", source: { department: "Sales" }, output: "SALES", origin: "ours" },
    { expression: 'ToUpper("i", "tr-TR")', output: "İ", origin: "ours" },
  ],
  evaluate: (args, context) => cultureCase(args, context, true),
};

/**
 * .NET TextInfo.ToTitleCase word separators (the Unicode categories Microsoft's PCase remarks list).
 * Letters, digits and combining marks continue a word.
 */
const TITLE_CASE_SEPARATOR =
  /[\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cf}\p{Pc}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Po}\p{Sm}\p{Sc}\p{Sk}\p{So}]/u;
const LETTER = /\p{L}/u;

function toTitleCase(source: string): string {
  // Entra lower-cases first: ToTitleCase alone would keep all-capital words, yet "PABLO" becomes "Pablo".
  const lower = source.toLowerCase();
  let output = "";
  let inWord = false;
  for (const char of lower) {
    if (TITLE_CASE_SEPARATOR.test(char)) {
      inWord = false;
      output += char;
    } else if (!inWord && LETTER.test(char)) {
      inWord = true;
      output += char.toUpperCase();
    } else {
      output += char;
    }
  }
  return output;
}

const PCASE: FunctionSpec = {
  name: "PCase",
  category: "Text",
  parameters: [
    { name: "source", description: "Value to convert to proper case." },
    { name: "wordSeparators", optional: true, description: 'Characters that separate words, e.g. " ,-\'".' },
  ],
  summary:
    "Upper-cases the first character of each word and lower-cases the rest. Without wordSeparators, words are split like .NET ToTitleCase (spaces, punctuation, symbols, control characters); with them, only those characters split words.",
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: "PCase([firstName])",
      source: { firstName: "PABLO GONSALVES (SECOND)" },
      output: "Pablo Gonsalves (Second)",
      origin: "Microsoft",
    },
    {
      expression: 'PCase([lastName]," \'-")',
      source: { lastName: "PINTO-DE'SILVA" },
      output: "Pinto-De'Silva",
      origin: "Microsoft",
    },
    { expression: 'PCase("o\'NEIL-smith", " ")', output: "O'neil-smith", origin: "ours" },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    if (source === null) return null;
    const separatorsArgument = argumentAt(args, 1);
    if (!separatorsArgument || separatorsArgument.omitted) return toTitleCase(source);
    const separators = new Set(toText(separatorsArgument.value) ?? "");
    let output = "";
    let atWordStart = true;
    for (const char of source) {
      if (separators.has(char)) {
        output += char;
        atWordStart = true;
      } else {
        output += atWordStart ? char.toUpperCase() : char.toLowerCase();
        atWordStart = false;
      }
    }
    return output;
  },
};

const WORD: FunctionSpec = {
  name: "Word",
  category: "Text",
  parameters: [
    {
      name: "String",
      description: "String (or the first value of a multi-valued attribute) to take a word from.",
    },
    { name: "WordNumber", description: "1-based number of the word to return." },
    { name: "Delimiters", description: "Each character of this string separates words." },
  ],
  summary:
    'Returns the WordNumber-th word, where words are runs of characters between any of the delimiter characters (consecutive delimiters do not make empty words). "" when the number is below 1 or there are fewer words.',
  nulls: 'A NULL string gives "" (as documented).',
  examples: [
    { expression: 'Word("The quick brown fox",3," ")', output: "brown", origin: "Microsoft" },
    { expression: 'Word("This,string!has&many separators",3,",!&#")', output: "has", origin: "Microsoft" },
    { expression: 'Word("a  b", 2, " ")', output: "b", origin: "ours" },
    { expression: 'Word("a b", 0, " ")', output: "", origin: "ours" },
    { expression: 'Word([missing], 1, " ")', source: {}, output: "", origin: "ours" },
  ],
  evaluate(args, context) {
    const source = textAt(args, 0);
    if (source === null) return "";
    const number = integerAt(args, 1, "WordNumber", context);
    if (number === null || number < 1) return "";
    const delimiters = new Set(textAt(args, 2) ?? "");
    const words: string[] = [];
    let current = "";
    for (const char of source) {
      if (delimiters.has(char)) {
        if (current !== "") words.push(current);
        current = "";
      } else {
        current += char;
      }
    }
    if (current !== "") words.push(current);
    return words[number - 1] ?? "";
  },
};

const INSTR: FunctionSpec = {
  name: "InStr",
  category: "Text",
  parameters: [
    { name: "value1", description: "String to search." },
    { name: "value2", description: "String to find." },
    { name: "start", optional: true, description: "1-based position to start searching from (default 1)." },
    {
      name: "compareType",
      optional: true,
      description: "vbBinaryCompare (case-sensitive, default) or vbTextCompare (case-insensitive).",
    },
  ],
  summary:
    "Returns the 1-based position of the first occurrence of value2 in value1 at or after start, or 0 when absent.",
  nulls: "NULL value1 or value2 gives NULL. An empty value2 returns start.",
  examples: [
    { expression: 'InStr("The quick brown fox","quick")', output: 5, origin: "Microsoft" },
    { expression: 'InStr("repEated","e",3,vbBinaryCompare)', output: 7, origin: "Microsoft" },
    { expression: 'InStr("repEated","e",3,vbTextCompare)', output: 4, origin: "ours" },
    { expression: 'InStr("abc","z")', output: 0, origin: "ours" },
  ],
  evaluate(args, context) {
    const haystack = textAt(args, 0);
    const needle = textAt(args, 1);
    if (haystack === null || needle === null) return null;
    const start = args[2] && !args[2].omitted ? integerAt(args, 2, "start", context) : 1;
    if (start === null) return null;
    if (start < 1) return context.fail(`start must be 1 or more, got ${start}`);
    let textCompare = false;
    if (args[3] && !args[3].omitted) {
      const raw = valueAt(args, 3);
      const mode = typeof raw === "string" ? raw.trim() : raw;
      if (mode === 1 || mode === "1" || mode === "vbTextCompare") textCompare = true;
      else if (!(mode === 0 || mode === "0" || mode === "vbBinaryCompare")) {
        context.fail(
          `compareType must be vbBinaryCompare or vbTextCompare, got ${JSON.stringify(toText(raw))}`,
        );
      }
    }
    if (start > haystack.length + 1) return 0;
    if (needle === "") return start;
    const found = textCompare
      ? haystack.toLowerCase().indexOf(needle.toLowerCase(), start - 1)
      : haystack.indexOf(needle, start - 1);
    return found + 1;
  },
};

const CSTR: FunctionSpec = {
  name: "CStr",
  category: "Text",
  parameters: [{ name: "value", description: "A number, reference or Boolean." }],
  summary:
    'Converts a value to a string: numbers in invariant form, Booleans as "True"/"False", dates as M/d/yyyy h:mm:ss tt.',
  nulls: "NULL gives NULL; a multi-valued attribute gives its first value.",
  examples: [
    {
      expression: "CStr([dn])",
      source: { dn: "cn=Joe,dc=contoso,dc=com" },
      output: "cn=Joe,dc=contoso,dc=com",
      origin: "Microsoft",
    },
    {
      expression: "CStr([accountEnabled])",
      source: { accountEnabled: true },
      output: "True",
      origin: "ours",
    },
    { expression: "CStr(42)", output: "42", origin: "ours" },
  ],
  evaluate(args) {
    const value = valueAt(args, 0);
    const single = Array.isArray(value) ? (value[0] ?? null) : value;
    if (single === null || typeof single === "symbol") return null;
    return scalarToText(single);
  },
};

const IS_STRING: FunctionSpec = {
  name: "IsString",
  category: "Logic",
  parameters: [{ name: "Expression", description: "Expression to test." }],
  summary:
    "True when the expression evaluates to a string (text attributes, string literals, date strings); False for numbers, Booleans, NULL and multi-valued values.",
  nulls: "NULL gives False.",
  examples: [
    { expression: "IsString([displayName])", source: { displayName: "Ada" }, output: true, origin: "ours" },
    {
      expression: "IsString([accountEnabled])",
      source: { accountEnabled: true },
      output: false,
      origin: "ours",
    },
    { expression: "IsString([missing])", source: {}, output: false, origin: "ours" },
  ],
  evaluate(args) {
    const value = valueAt(args, 0);
    return typeof value === "string" || value instanceof EntraDateTime || value instanceof AppRoleValue;
  },
};

export const TEXT_FUNCTIONS: readonly FunctionSpec[] = [
  APPEND,
  JOIN,
  LEFT,
  LEN,
  MID,
  STRIP_SPACES,
  TO_LOWER,
  TO_UPPER,
  PCASE,
  WORD,
  INSTR,
  CSTR,
  IS_STRING,
];
