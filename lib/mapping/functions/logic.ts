import { IGNORE_FLOW, isNullOrEmpty, toText, type EntraValue } from "../values";
import { parseInteger, textAt, valueAt } from "./arguments";
import type { FunctionSpec } from "./registry";

/** .NET Boolean.Parse plus VBA's numeric truth (non-zero is True). */
export function toBoolean(value: EntraValue): boolean | undefined {
  const single = Array.isArray(value) ? (value[0] ?? null) : value;
  if (single === null || single === IGNORE_FLOW) return undefined;
  if (typeof single === "boolean") return single;
  if (typeof single === "number") return single !== 0;
  if (typeof single !== "string") return undefined;
  const text = single.trim();
  if (/^true$/i.test(text)) return true;
  if (/^false$/i.test(text)) return false;
  if (text !== "" && Number.isFinite(Number(text))) return Number(text) !== 0;
  return undefined;
}

const CBOOL: FunctionSpec = {
  name: "CBool",
  category: "Logic",
  parameters: [
    { name: "Expression", description: "Any expression, typically a comparison such as [a] = [b]." },
  ],
  summary:
    'Returns True when the expression evaluates to a non-zero number or "True", False for zero or "False".',
  nulls: "NULL gives False; text that is neither a number nor True/False fails the evaluation.",
  examples: [
    {
      expression: "CBool([attribute1] = [attribute2])",
      source: { attribute1: "x", attribute2: "x" },
      output: true,
      origin: "Microsoft",
    },
    {
      expression: "CBool([attribute1] = [attribute2])",
      source: { attribute1: "x", attribute2: "y" },
      output: false,
      origin: "ours",
    },
    { expression: 'CBool("0")', output: false, origin: "ours" },
    { expression: "CBool(5)", output: true, origin: "ours" },
  ],
  evaluate(args, context) {
    const value = valueAt(args, 0);
    if (value === null) return false;
    const result = toBoolean(value);
    if (result === undefined)
      return context.fail(`cannot convert ${JSON.stringify(toText(value))} to a Boolean`);
    return result;
  },
};

const COALESCE: FunctionSpec = {
  name: "Coalesce",
  category: "Logic",
  parameters: [
    { name: "source", repeating: true, description: "Values to try in order, usually attributes." },
    { name: "defaultValue", optional: true, description: 'Used when every source is NULL; may be "".' },
  ],
  argumentRange: { min: 1, max: Infinity },
  signature: "Coalesce(source1, source2, …, [defaultValue])",
  summary:
    "Returns the first argument that is not NULL (an empty string counts as a value); NULL when all are NULL.",
  nulls: "Empty multi-valued attributes count as NULL.",
  examples: [
    {
      expression: "Coalesce([mail],[userPrincipalName])",
      source: { mail: null, userPrincipalName: "John.Doe@contoso.com" },
      output: "John.Doe@contoso.com",
      origin: "Microsoft",
    },
    { expression: 'Coalesce([mail], [otherMails], "none")', source: {}, output: "none", origin: "ours" },
    { expression: "Coalesce([mail], [upn])", source: {}, output: null, origin: "ours" },
  ],
  evaluate(args) {
    for (const argument of args) {
      const value = argument.value;
      if (value === null || value === IGNORE_FLOW || (Array.isArray(value) && value.length === 0)) continue;
      return value;
    }
    return null;
  },
};

const IGNORE_FLOW_IF_NULL_OR_EMPTY: FunctionSpec = {
  name: "IgnoreFlowIfNullOrEmpty",
  category: "Flow control",
  parameters: [{ name: "expression", description: "Expression to evaluate." }],
  summary:
    "Drops the target attribute from the provisioning flow when the expression is NULL or empty, instead of exporting an empty value. Anywhere inside a larger expression it drops the whole attribute.",
  nulls: 'NULL or "" → the attribute does not flow (evaluateExpression returns undefined).',
  examples: [
    {
      expression: "IgnoreFlowIfNullOrEmpty([department])",
      source: { department: "" },
      output: undefined,
      origin: "Microsoft",
    },
    {
      expression: "IgnoreFlowIfNullOrEmpty([department])",
      source: {},
      output: undefined,
      origin: "Microsoft",
      note: "Microsoft: dropped when null or empty; this is the null case.",
    },
    {
      expression: "IgnoreFlowIfNullOrEmpty([department])",
      source: { department: "Sales" },
      output: "Sales",
      origin: "ours",
    },
    {
      expression:
        'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))',
      source: { prefix: "9999" },
      output: undefined,
      origin: "Microsoft",
    },
    {
      expression:
        'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))',
      source: { prefix: "3444" },
      output: "Prof.",
      origin: "ours",
    },
  ],
  evaluate(args) {
    const value = valueAt(args, 0);
    return isNullOrEmpty(value) ? IGNORE_FLOW : value;
  },
};

const IIF: FunctionSpec = {
  name: "IIF",
  category: "Logic",
  parameters: [
    {
      name: "condition",
      description:
        "A comparison with = <> > >= < <=, or a value that is True/False. No AND/OR: nest IIF instead.",
    },
    { name: "valueIfTrue", description: "Returned when the condition is true." },
    { name: "valueIfFalse", description: "Returned when the condition is false." },
  ],
  summary:
    'Returns valueIfTrue or valueIfFalse depending on the condition. Comparisons are case-sensitive; two numbers (or numeric strings) compare as numbers. For AND, nest along valueIfTrue: IIF([country]="USA",IIF([state]="CA","True","False"),"False").',
  nulls:
    'As Entra documents, the condition check fails when an attribute it reads is NULL or empty: IIF then gives NULL (nothing flows). Use Switch([country],[country],"","Other") to test for empty values.',
  examples: [
    {
      expression: 'IIF([country]="USA",[country],[department])',
      source: { country: "USA", department: "Sales" },
      output: "USA",
      origin: "Microsoft",
    },
    {
      expression: 'IIF([country]="USA",[country],[department])',
      source: { country: "FR", department: "Sales" },
      output: "Sales",
      origin: "Microsoft",
    },
    {
      expression: 'IIF([country]="USA",IIF([state]="CA","True","False"),"False")',
      source: { country: "USA", state: "CA" },
      output: "True",
      origin: "Microsoft",
    },
    {
      expression: 'IIF([country]="USA","True",IIF([state]="CA","True","False"))',
      source: { country: "FR", state: "CA" },
      output: "True",
      origin: "Microsoft",
    },
    {
      expression: 'IIF([country]="","Other",[country])',
      source: { country: "" },
      output: null,
      origin: "Microsoft",
      note: "Unsupported per Microsoft: the check fails on an empty attribute.",
    },
    {
      expression: 'IIF(IsNullOrEmpty([country]),"Other",[country])',
      source: { country: "" },
      output: null,
      origin: "Microsoft",
      note: "Unsupported per Microsoft: the condition reads an empty attribute, so the check fails.",
    },
    {
      expression: 'IIF(IsPresent([country]),[country],"Other")',
      source: {},
      output: null,
      origin: "Microsoft",
      note: "Unsupported per Microsoft: the condition reads a NULL attribute, so the check fails.",
    },
    {
      expression: 'IIF(IsPresent([country]),[country],"Other")',
      source: { country: "NZ" },
      output: "NZ",
      origin: "ours",
      note: "The same expression works while the attribute has a value.",
    },
    {
      expression: 'IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True")',
      source: { StatusHireDate: "2021-09-30" },
      now: "2021-08-25T00:00:00Z",
      output: "False",
      origin: "Microsoft",
    },
  ],
  evaluate(args, context) {
    const condition = args[0];
    if (!condition) return null;
    if (condition.emptyAttribute !== undefined) {
      context.addNote(
        `IIF condition read [${condition.emptyAttribute}], which is NULL or empty; Entra fails the check, so nothing flows`,
      );
      return null;
    }
    const truth = toBoolean(condition.value);
    if (truth === undefined) {
      if (condition.value === null) return null;
      context.fail(`condition must be True or False, got ${JSON.stringify(toText(condition.value))}`);
    }
    return valueAt(args, truth ? 1 : 2);
  },
};

const IS_NULL: FunctionSpec = {
  name: "IsNull",
  category: "Logic",
  parameters: [{ name: "Expression", description: "Expression to test." }],
  summary: "True when the expression is NULL; for an attribute, NULL means the attribute is absent.",
  nulls: '"" is not NULL.',
  examples: [
    { expression: "IsNull([displayName])", source: {}, output: true, origin: "Microsoft" },
    { expression: "IsNull([displayName])", source: { displayName: "" }, output: false, origin: "ours" },
  ],
  evaluate(args) {
    const value = valueAt(args, 0);
    return value === null || value === IGNORE_FLOW || (Array.isArray(value) && value.length === 0);
  },
};

const IS_NULL_OR_EMPTY: FunctionSpec = {
  name: "IsNullOrEmpty",
  category: "Logic",
  parameters: [{ name: "Expression", description: "Expression to test." }],
  summary: "True when the expression is NULL or an empty string. The inverse of IsPresent.",
  nulls: "An empty multi-valued attribute is empty.",
  examples: [
    { expression: "IsNullOrEmpty([displayName])", source: {}, output: true, origin: "Microsoft" },
    {
      expression: "IsNullOrEmpty([displayName])",
      source: { displayName: "" },
      output: true,
      origin: "Microsoft",
    },
    {
      expression: "IsNullOrEmpty([displayName])",
      source: { displayName: "Ada" },
      output: false,
      origin: "ours",
    },
  ],
  evaluate: (args) => isNullOrEmpty(valueAt(args, 0)),
};

/** Microsoft's IsPresent example, which picks the first manager attribute that is present. */
const IS_PRESENT_SWITCH =
  "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])";

const IS_PRESENT: FunctionSpec = {
  name: "IsPresent",
  category: "Logic",
  parameters: [{ name: "Expression", description: "Expression to test." }],
  summary: "True when the expression is neither NULL nor an empty string. The inverse of IsNullOrEmpty.",
  nulls: 'NULL and "" give False.',
  examples: [
    { expression: "IsPresent([manager])", source: { manager: "cn=Boss" }, output: true, origin: "ours" },
    { expression: "IsPresent([manager])", source: { manager: "" }, output: false, origin: "ours" },
    {
      expression: IS_PRESENT_SWITCH,
      source: { directManager: "Ann", skiplevelManager: "Bob", director: "Cy" },
      output: "Bob",
      origin: "Microsoft",
      note: 'Microsoft gives no output. Read literally, Switch compares "True" with the key IsPresent([skiplevelManager]) = "True", so the skip-level manager wins; Switch\'s own caution says not to nest IsPresent in its source.',
    },
    {
      expression: IS_PRESENT_SWITCH,
      source: { skiplevelManager: "Bob", director: "Cy" },
      output: null,
      origin: "Microsoft",
      note: 'Source "False" matches no "True" key, so the default [directManager], NULL, is returned.',
    },
  ],
  evaluate: (args) => !isNullOrEmpty(valueAt(args, 0)),
};

const NOT: FunctionSpec = {
  name: "Not",
  category: "Logic",
  parameters: [{ name: "source", description: 'Boolean or "True"/"False" string.' }],
  summary:
    'Flips a Boolean: True gives False; anything else (False, "False", NULL, other text) gives True, as documented.',
  nulls: "NULL gives True.",
  examples: [
    { expression: "Not([accountEnabled])", source: { accountEnabled: true }, output: false, origin: "ours" },
    { expression: "Not([IsSoftDeleted])", source: { IsSoftDeleted: "False" }, output: true, origin: "ours" },
    { expression: "Not([missing])", source: {}, output: true, origin: "ours" },
  ],
  evaluate: (args) => toBoolean(valueAt(args, 0)) !== true,
};

const SWITCH: FunctionSpec = {
  name: "Switch",
  category: "Logic",
  parameters: [
    { name: "source", description: "Value to compare with each key." },
    {
      name: "defaultValue",
      optional: false,
      description: 'Returned when no key matches; may be left empty (NULL) or "".',
    },
    { name: "key", description: "Compared with the source (case-sensitive)." },
    {
      name: "value",
      repeating: true,
      description: "Returned when its key matches; keys and values come in pairs.",
    },
  ],
  signature: "Switch(source, defaultValue, key1, value1, key2, value2, …)",
  checkArgumentCount: (count) =>
    count % 2 === 0 ? null : "keys and values must come in pairs (an even number of arguments)",
  summary:
    'Returns the value paired with the first key equal to the source (case-sensitive string comparison; Booleans read as "True"/"False"), else defaultValue. A NULL source matches the key "".',
  nulls:
    'NULL source compares as ""; an omitted defaultValue is NULL. Do not wrap the source in IsPresent/IsNull; use a "" key.',
  examples: [
    {
      expression:
        'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")',
      source: { state: "QLD" },
      output: "Australia/Brisbane",
      origin: "Microsoft",
    },
    {
      expression: 'Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")',
      source: { statusFlag: "TRUE" },
      output: "1",
      origin: "Microsoft",
    },
    {
      expression: 'Switch([statusFlag], "Default Value", "true", "1", "", "0")',
      source: { statusFlag: "" },
      output: "0",
      origin: "Microsoft",
    },
    {
      expression: 'Switch([country],[country],"","Other")',
      source: {},
      output: "Other",
      origin: "Microsoft",
    },
    {
      expression: 'Switch([BusinessTitle],[BusinessTitle],"","N/A")',
      source: { BusinessTitle: "Engineer" },
      output: "Engineer",
      origin: "Microsoft",
    },
    {
      expression: 'Switch([companyName], "External", "Company A", "A", "Company B", "B")',
      source: { companyName: "Company B" },
      output: "B",
      origin: "Microsoft",
      note: 'Microsoft writes it as "switch(" which the case-sensitive syntax rejects; the input is ours.',
    },
    {
      expression: 'IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))',
      source: { companyName: "Contoso" },
      output: "External",
      origin: "Microsoft",
      note: "Microsoft's IIF replacement for that Switch; the input is ours.",
    },
    {
      expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
      source: { IsSoftDeleted: false },
      output: "True",
      origin: "ours",
    },
    {
      expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
      source: { IsSoftDeleted: true },
      output: "False",
      origin: "ours",
    },
    {
      expression: 'Switch([state], , "nsw", "x")',
      source: { state: "NSW" },
      output: null,
      origin: "ours",
      note: "Case-sensitive: no match, no default.",
    },
  ],
  evaluate(args) {
    const sourceValue = valueAt(args, 0);
    const sourceText = toText(sourceValue) ?? "";
    for (let index = 2; index + 1 < args.length; index += 2) {
      if ((textAt(args, index) ?? "") === sourceText) return valueAt(args, index + 1);
    }
    return valueAt(args, 1);
  },
};

const BIT_AND: FunctionSpec = {
  name: "BitAnd",
  category: "Logic",
  parameters: [
    { name: "value1", description: "Integer (decimal or VBA hexadecimal such as &HF)." },
    { name: "value2", description: "Integer to AND with value1." },
  ],
  summary: "Bitwise AND of two 64-bit integers: a bit is 1 only where both values have a 1.",
  nulls: "Either NULL gives NULL; non-integers fail the evaluation.",
  examples: [
    { expression: "BitAnd(&HF, &HF7)", output: 7, origin: "Microsoft" },
    {
      expression: "BitAnd([userAccountControl], 2)",
      source: { userAccountControl: "514" },
      output: 2,
      origin: "ours",
    },
  ],
  evaluate(args, context) {
    const first = valueAt(args, 0);
    const second = valueAt(args, 1);
    if (first === null || second === null) return null;
    const a = parseInteger(first);
    const b = parseInteger(second);
    if (a === null || b === null)
      return context.fail(
        `both values must be integers, got ${JSON.stringify(toText(a === null ? first : second))}`,
      );
    return Number(BigInt.asIntN(64, a & b));
  },
};

const REDACT: FunctionSpec = {
  name: "Redact",
  category: "Flow control",
  parameters: [
    { name: "attribute/value", description: "Attribute, constant or expression to hide from logs." },
  ],
  summary: 'Exports the value unchanged but shows it as "[Redact]" in provisioning logs and traces.',
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: "Redact([userPrincipalName])",
      source: { userPrincipalName: "a@contoso.com" },
      output: "a@contoso.com",
      origin: "Microsoft",
    },
    { expression: 'Redact("StringToBeRedacted")', output: "StringToBeRedacted", origin: "Microsoft" },
  ],
  evaluate(args, context) {
    context.markRedacted();
    return valueAt(args, 0);
  },
};

function randomBytes(count: number, random: () => number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * 256) & 0xff);
}

const GUID: FunctionSpec = {
  name: "Guid",
  category: "Text",
  parameters: [],
  summary: "Generates a new random GUID (version 4), e.g. 00aa00aa-bb11-cc22-dd33-44ee44ee44ee.",
  nulls:
    "Never NULL. A new value on every evaluation, so a mapping using it changes on every cycle unless applied only on creation.",
  examples: [],
  evaluate(_args, context) {
    const bytes = randomBytes(16, context.random);
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  },
};

const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
/** The special characters Windows password complexity recognises. */
const SPECIAL = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";
const MAX_RANDOM_STRING_LENGTH = 256;

const RANDOM_STRING: FunctionSpec = {
  name: "RandomString",
  category: "Text",
  parameters: [
    { name: "Length", description: "Total length, at most 256 and at least the sum of the minimums." },
    { name: "MinimumNumbers", description: "Minimum digits." },
    {
      name: "MinimumSpecialCharacters",
      description: "Minimum special characters (Windows password complexity set).",
    },
    { name: "MinimumCapital", description: "Minimum upper-case letters." },
    { name: "MinimumLowerCase", description: "Minimum lower-case letters." },
    { name: "CharactersToAvoid", optional: true, description: "Characters never to use." },
  ],
  summary:
    "Generates a random string meeting the minimums; remaining characters come from all four classes; the order is shuffled.",
  nulls: "A NULL number fails the evaluation.",
  examples: [],
  evaluate(args, context) {
    const numbers = args.slice(0, 5).map((argument, index) => {
      const parsed = parseInteger(argument.value);
      if (parsed === null || parsed < 0n)
        return context.fail(`argument ${index + 1} must be a non-negative whole number`);
      return Number(parsed);
    });
    const [length = 0, minNumbers = 0, minSpecial = 0, minCapital = 0, minLower = 0] = numbers;
    if (length > MAX_RANDOM_STRING_LENGTH)
      return context.fail(`Length must be at most ${MAX_RANDOM_STRING_LENGTH}, got ${length}`);
    if (minNumbers + minSpecial + minCapital + minLower > length) {
      context.fail(
        `Length ${length} is less than the sum of the minimums (${minNumbers + minSpecial + minCapital + minLower})`,
      );
    }
    const avoid = new Set(textAt(args, 5) ?? "");
    const allowed = (set: string): string => [...set].filter((char) => !avoid.has(char)).join("");
    const classes = [
      { chars: allowed(DIGITS), min: minNumbers, label: "numbers" },
      { chars: allowed(SPECIAL), min: minSpecial, label: "special characters" },
      { chars: allowed(UPPER), min: minCapital, label: "capital letters" },
      { chars: allowed(LOWER), min: minLower, label: "lower-case letters" },
    ];
    const pick = (chars: string): string => chars.charAt(Math.floor(context.random() * chars.length));
    const output: string[] = [];
    for (const { chars, min, label } of classes) {
      if (min > 0 && chars === "") return context.fail(`CharactersToAvoid removes every one of the ${label}`);
      for (let index = 0; index < min; index++) output.push(pick(chars));
    }
    const pool = classes.map((entry) => entry.chars).join("");
    if (output.length < length && pool === "")
      return context.fail("CharactersToAvoid removes every character");
    while (output.length < length) output.push(pick(pool));
    for (let index = output.length - 1; index > 0; index--) {
      const swap = Math.floor(context.random() * (index + 1));
      [output[index], output[swap]] = [output[swap] as string, output[index] as string];
    }
    return output.join("");
  },
};

const SELECT_UNIQUE_VALUE: FunctionSpec = {
  name: "SelectUniqueValue",
  category: "Flow control",
  parameters: [
    {
      name: "uniqueValueRule",
      repeating: true,
      description: "Candidate values, in order of preference (at least two).",
    },
  ],
  argumentRange: { min: 2, max: Infinity },
  topLevelOnly: true,
  summary:
    "Returns the first candidate that does not exist yet in the target. Must be the outermost function, cannot be used on a matching attribute, and Entra supports it only for Workday/SuccessFactors/API-driven provisioning to Active Directory, so a SCIM mapping fails with an explanation unless the caller supplies a uniqueness check.",
  nulls: "NULL or empty candidates are skipped; when all exist the object is escrowed (evaluation fails).",
  examples: [],
  evaluate(args, context) {
    if (!context.isUniqueValue) {
      return context.fail(
        "Entra supports SelectUniqueValue only for Workday, SuccessFactors and API-driven provisioning to Active Directory, not for SCIM apps",
      );
    }
    for (const argument of args) {
      const candidate = toText(argument.value);
      if (candidate === null || candidate === "") continue;
      if (context.isUniqueValue(candidate)) return candidate;
    }
    return context.fail("every candidate value already exists in the target");
  },
};

export const LOGIC_FUNCTIONS: readonly FunctionSpec[] = [
  CBOOL,
  COALESCE,
  IGNORE_FLOW_IF_NULL_OR_EMPTY,
  IIF,
  IS_NULL,
  IS_NULL_OR_EMPTY,
  IS_PRESENT,
  NOT,
  SWITCH,
  BIT_AND,
  REDACT,
  GUID,
  RANDOM_STRING,
  SELECT_UNIQUE_VALUE,
];
