import { GuardedRegex, RegexSyntaxError, RegexTooComplexError } from "../regex/engine";
import { isNullOrEmpty } from "../values";
import { isProvided, textAt, valueAt } from "./arguments";
import type { CallContext, FunctionSpec } from "./registry";

const SOURCE = 0;
const OLD_VALUE = 1;
const REGEX_PATTERN = 2;
const REGEX_GROUP_NAME = 3;
const REPLACEMENT_VALUE = 4;
const REPLACEMENT_ATTRIBUTE_NAME = 5;
const TEMPLATE = 6;

function compile(pattern: string, context: CallContext): GuardedRegex {
  try {
    return GuardedRegex.compile(pattern);
  } catch (error) {
    if (error instanceof RegexSyntaxError)
      return context.fail(`regexPattern ${JSON.stringify(pattern)}: ${error.message}`);
    throw error;
  }
}

function guarded<T>(context: CallContext, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof RegexTooComplexError) return context.fail(error.message);
    throw error;
  }
}

/** parts.join(glue), refused before it is built when the glue repeated per part would make it too long. */
function joinChecked(parts: string[], glue: string, context: CallContext): string {
  let length = glue.length * (parts.length - 1);
  for (const part of parts) length += part.length;
  context.ensureLength(length);
  return parts.join(glue);
}

const REPLACE: FunctionSpec = {
  name: "Replace",
  category: "Text",
  parameters: [
    { name: "source", description: "Usually an attribute." },
    { name: "oldValue", optional: true, description: "Text replaced in source (or in template)." },
    {
      name: "regexPattern",
      optional: true,
      description: ".NET regular expression applied to source (or to replacementAttributeName).",
    },
    { name: "regexGroupName", optional: true, description: "Named group of regexPattern." },
    {
      name: "replacementValue",
      optional: true,
      description: "New text; with regexPattern alone it may use ${group}, $1, $$.",
    },
    {
      name: "replacementAttributeName",
      optional: true,
      description: "Attribute to take the value from when source is empty.",
    },
    { name: "template", optional: true, description: "Text in which oldValue is replaced by source." },
  ],
  argumentRange: { min: 7, max: 7 },
  signature:
    "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
  summary:
    "Case-sensitive replacement with five modes chosen by which arguments are given (leave the others empty): " +
    "(1) oldValue + replacementValue: every oldValue in source becomes replacementValue; " +
    "(2) oldValue + template: every oldValue in template becomes source; " +
    "(3) regexPattern + replacementValue: .NET Regex.Replace with ${name}/$1 substitutions; " +
    "(4) regexPattern + regexGroupName + replacementValue: only the text captured by that group is replaced; " +
    "(5) regexPattern + regexGroupName + replacementAttributeName: source when it has a value, otherwise the group's text in replacementAttributeName. " +
    "Regular expressions run in a bounded matcher (inputs up to 1,024 characters, a step budget), so a catastrophic pattern fails the evaluation instead of hanging.",
  nulls: "NULL source gives NULL in modes 1-4; mode 5 exists for an empty source.",
  examples: [
    {
      expression: 'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
      source: { BusinessTitle: "Product Developer" },
      output: "Software Engineer",
      origin: "Microsoft",
    },
    {
      expression: 'Replace([UserID],"<username>", , , , , "<username>@contoso.com")',
      source: { UserID: "jsmith" },
      output: "jsmith@contoso.com",
      origin: "Microsoft",
    },
    {
      expression:
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )',
      source: { telephoneNumber: "+91 9998887777" },
      output: "9998887777",
      origin: "Microsoft",
    },
    {
      expression: 'Replace([mobile], , "[()\\\\s-]+", , "", , )',
      source: { mobile: "+1 (999) 888-7777" },
      output: "+19998887777",
      origin: "Microsoft",
      note: 'Microsoft\'s page shows "19998887777", but the pattern [()\\s-]+ does not contain "+", so .NET keeps it.',
    },
    {
      expression: 'Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )',
      source: { AddressLineData: "545 Tremont Street" },
      output: "888 Tremont Street",
      origin: "Microsoft",
    },
    {
      expression: 'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )',
      source: { userPrincipalName: "jsmith@contoso.com" },
      output: "jsmith",
      origin: "Microsoft",
    },
    {
      expression:
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , [mobile], )',
      source: { telephoneNumber: "", mobile: "+91 8887779999" },
      output: "8887779999",
      origin: "Microsoft",
    },
    {
      expression: 'Replace([mailNickname], , "[a-zA-Z_]*", , "", , )',
      source: { mailNickname: "john_doe72" },
      output: "72",
      origin: "Microsoft",
    },
    {
      expression: 'Replace([mail], "@contoso.com", , ,"", ,)',
      source: { mail: "john.doe@contoso.com" },
      output: "john.doe",
      origin: "Microsoft",
    },
    {
      expression: 'Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))',
      source: { objectId: "00aa00aa-bb11-cc22-dd33-44ee44ee44ee" },
      output: "100030306161303061612626231312636332322646433332343465653434656534346565",
      origin: "Microsoft",
      note: "Microsoft's sample output does not correspond to its sample input; this is what the expression produces for that input.",
    },
  ],
  evaluate(args, context) {
    const source = valueAt(args, SOURCE);
    const sourceText = textAt(args, SOURCE);
    if (isProvided(args, OLD_VALUE)) {
      const oldValue = textAt(args, OLD_VALUE) ?? "";
      if (sourceText === null) return null;
      if (isProvided(args, TEMPLATE)) {
        const template = textAt(args, TEMPLATE) ?? "";
        return oldValue === "" ? template : joinChecked(template.split(oldValue), sourceText, context);
      }
      if (oldValue === "") return sourceText;
      return joinChecked(sourceText.split(oldValue), textAt(args, REPLACEMENT_VALUE) ?? "", context);
    }
    if (!isProvided(args, REGEX_PATTERN)) {
      return context.fail("give oldValue (with replacementValue or template) or regexPattern");
    }
    const regex = compile(textAt(args, REGEX_PATTERN) ?? "", context);
    const groupName = isProvided(args, REGEX_GROUP_NAME) ? (textAt(args, REGEX_GROUP_NAME) ?? "") : null;
    if (groupName !== null && !regex.hasGroup(/^\d+$/.test(groupName) ? Number(groupName) : groupName)) {
      context.fail(`regexPattern has no group named "${groupName}"`);
    }
    if (
      groupName !== null &&
      isProvided(args, REPLACEMENT_ATTRIBUTE_NAME) &&
      !isProvided(args, REPLACEMENT_VALUE)
    ) {
      if (!isNullOrEmpty(source)) return sourceText;
      const fallback = textAt(args, REPLACEMENT_ATTRIBUTE_NAME);
      if (fallback === null) return null;
      const match = guarded(context, () => regex.exec(fallback, 0, { remaining: 1_000_000 }));
      return match?.group(groupName)?.value ?? null;
    }
    if (!isProvided(args, REPLACEMENT_VALUE)) {
      return context.fail(
        "regexPattern needs replacementValue, or regexGroupName with replacementAttributeName",
      );
    }
    if (sourceText === null) return null;
    const replacement = textAt(args, REPLACEMENT_VALUE) ?? "";
    if (groupName === null) {
      return guarded(context, () =>
        regex.replace(sourceText, replacement, undefined, (length) => context.ensureLength(length)),
      );
    }
    return guarded(context, () => {
      let output = "";
      let last = 0;
      for (const match of regex.matchAll(sourceText)) {
        const group = match.group(/^\d+$/.test(groupName) ? Number(groupName) : groupName);
        if (!group || group.start < last) continue;
        context.ensureLength(output.length + (group.start - last) + replacement.length);
        output += sourceText.slice(last, group.start) + replacement;
        last = group.end;
      }
      return output + sourceText.slice(last);
    });
  },
};

export const REPLACE_FUNCTIONS: readonly FunctionSpec[] = [REPLACE];
