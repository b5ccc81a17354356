import { GuardedRegex, RegexSyntaxError, RegexTooComplexError } from "../mapping/regex/engine";
import {
  INTEGER_SCOPE_OPERATORS,
  REGEX_SCOPE_OPERATORS,
  SCOPE_OPERATORS,
  UNARY_SCOPE_OPERATORS,
  ZScopeFilter,
  type TScopeClause,
  type TScopeFilter,
  type TScopeFilterInput,
} from "./model";

export * from "./model";

export type ScopeActualValue = string | number | boolean | null | (string | number | boolean)[];

export interface ClauseResult {
  attribute: string;
  operator: string;
  values: string[];
  /** The source value the clause looked at (NULL as null). */
  actual: ScopeActualValue;
  matched: boolean;
  /** Why the clause could not be evaluated normally (multi-valued attribute, regex too expensive...). */
  reason?: string;
}

export interface GroupResult {
  name: string;
  matched: boolean;
  clauses: ClauseResult[];
}

export interface ScopeEvaluation {
  inScope: boolean;
  groups: GroupResult[];
}

export interface ScopeProblem {
  groupIndex: number;
  groupName: string;
  /** undefined for a problem with the group itself. */
  clauseIndex: number | undefined;
  message: string;
}

export class ScopeFilterError extends Error {
  override readonly name = "ScopeFilterError";
  constructor(readonly problems: ScopeProblem[]) {
    super(problems.map((problem) => problem.message).join("; "));
  }
}

/** Attributes Microsoft documents as not filterable. */
const UNFILTERABLE_ATTRIBUTES = new Map([
  ["members", "the members attribute of a group is not supported in scoping filters"],
  ["appRoleAssignments", "appRoleAssignments is not supported in scoping filters"],
  ["manager", "manager (a reference attribute) is not supported in scoping filters"],
  ["IsMemberOf", "IsMemberOf is not supported in scoping filters"],
]);

const INTEGER_PATTERN = /^[+-]?\d+$/;
const regexCache = new Map<string, GuardedRegex>();

function compileRegex(pattern: string): GuardedRegex {
  let compiled = regexCache.get(pattern);
  if (!compiled) {
    compiled = GuardedRegex.compile(pattern);
    if (regexCache.size > 200) regexCache.clear();
    regexCache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * "Scoping filter 2 ("Sales"), clause 3 on department": positions match the portal's editor, and the
 * attribute lets an administrator find the clause without counting rows.
 */
function clauseLabel(
  groupIndex: number,
  groupName: string,
  clauseIndex: number | undefined,
  attribute = "",
): string {
  const group = `Scoping filter ${groupIndex + 1}${groupName ? ` ("${groupName}")` : ""}`;
  if (clauseIndex === undefined) return group;
  const name = attribute.trim();
  return `${group}, clause ${clauseIndex + 1}${name ? ` on ${name}` : ""}`;
}

/** Checks a filter the way Entra's editor does; every problem names its filter (group) and clause. */
export function validateScopeFilter(filter: unknown): { valid: boolean; problems: ScopeProblem[] } {
  const parsed = ZScopeFilter.safeParse(filter ?? { groups: [] });
  if (!parsed.success) {
    return {
      valid: false,
      problems: parsed.error.issues.map((issue) => {
        const [, groupIndex, , clauseIndex] = issue.path;
        const group = typeof groupIndex === "number" ? groupIndex : 0;
        const clause = typeof clauseIndex === "number" ? clauseIndex : undefined;
        return {
          groupIndex: group,
          groupName: "",
          clauseIndex: clause,
          message: `${clauseLabel(group, "", clause)}: ${issue.path.join(".")}: ${issue.message}`,
        };
      }),
    };
  }
  const problems: ScopeProblem[] = [];
  parsed.data.groups.forEach((group, groupIndex) => {
    const report = (clauseIndex: number | undefined, message: string, attribute?: string): void => {
      problems.push({
        groupIndex,
        groupName: group.name,
        clauseIndex,
        message: `${clauseLabel(groupIndex, group.name, clauseIndex, attribute)}: ${message}`,
      });
    };
    if (group.clauses.length === 0) report(undefined, "a scoping filter needs at least one clause");
    group.clauses.forEach((clause, clauseIndex) => {
      const problem = clauseProblem(clause);
      if (problem) report(clauseIndex, problem, clause.sourceOperandName);
    });
  });
  return { valid: problems.length === 0, problems };
}

function clauseProblem(clause: TScopeClause): string | null {
  const operator = clause.operatorName;
  if (!(SCOPE_OPERATORS as readonly string[]).includes(operator)) {
    const sameLetters = SCOPE_OPERATORS.find((known) => known.toLowerCase() === operator.toLowerCase());
    return `unknown operator "${operator}"${sameLetters ? ` (Entra spells it "${sameLetters}")` : ""}; expected one of ${SCOPE_OPERATORS.join(", ")}`;
  }
  const attribute = clause.sourceOperandName.trim();
  if (attribute === "") return "the attribute name is empty";
  const unfilterable = UNFILTERABLE_ATTRIBUTES.get(attribute);
  if (unfilterable) return unfilterable;
  const values = clause.targetOperand.values;
  if (UNARY_SCOPE_OPERATORS.has(operator)) {
    return values.length > 0 && values.some((value) => value !== "") ? `${operator} takes no value` : null;
  }
  if (values.length === 0) return `${operator} needs a value`;
  if (INTEGER_SCOPE_OPERATORS.has(operator)) {
    const bad = values.find((value) => !INTEGER_PATTERN.test(value.trim()));
    if (bad !== undefined) return `${operator} needs an integer value, got "${bad}"`;
  }
  if (REGEX_SCOPE_OPERATORS.has(operator)) {
    for (const value of values) {
      try {
        compileRegex(value);
      } catch (error) {
        if (error instanceof RegexSyntaxError)
          return `"${value}" is not a valid regular expression: ${error.reason} at character ${error.offset + 1}`;
        throw error;
      }
    }
  }
  return null;
}

function readAttribute(source: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(source, name)) return source[name];
  const lower = name.toLowerCase();
  const key = Object.keys(source).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : source[key];
}

function toActual(raw: unknown): ScopeActualValue {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") return raw;
  if (Array.isArray(raw)) {
    return raw.filter((item): item is string | number | boolean =>
      ["string", "number", "boolean"].includes(typeof item),
    );
  }
  if (raw instanceof Date) return raw.toISOString();
  return JSON.stringify(raw);
}

/** Booleans read as .NET prints them, so EQUALS "True" matches accountEnabled = true. */
function asText(value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

function evaluateClause(clause: TScopeClause, source: Readonly<Record<string, unknown>>): ClauseResult {
  const operator = clause.operatorName;
  const values = clause.targetOperand.values;
  const actual = toActual(readAttribute(source, clause.sourceOperandName));
  const result = (matched: boolean, reason?: string): ClauseResult => ({
    attribute: clause.sourceOperandName,
    operator,
    values,
    actual,
    matched,
    ...(reason ? { reason } : {}),
  });
  const isEmpty = actual === null || actual === "" || (Array.isArray(actual) && actual.length === 0);
  if (operator === "IS NULL") return result(isEmpty);
  if (operator === "IS NOT NULL") return result(!isEmpty);
  // Entra: "Scoping filters will return false if the value is null / empty", whatever the operator.
  if (isEmpty) return result(false, "the attribute is NULL or empty");
  if (Array.isArray(actual))
    return result(false, "Entra does not support filtering on multi-valued attributes");
  const text = asText(actual);
  switch (operator) {
    case "EQUALS":
      return result(values.some((value) => text === value));
    case "NOT EQUALS":
      return result(values.every((value) => text !== value));
    case "IS TRUE":
      return result(actual === true || /^true$/i.test(text));
    case "IS FALSE":
      return result(actual === false || /^false$/i.test(text));
    case "Includes":
      return result(values.some((value) => text.includes(value)));
    case "ENDS_WITH":
      return result(values.some((value) => text.endsWith(value)));
    case "&":
      return result(values.some((value) => value.includes(text)));
    case "!&":
      return result(values.every((value) => !value.includes(text)));
    case "REGEX MATCH":
    case "NOT REGEX MATCH": {
      try {
        const matched = values.some((value) => compileRegex(value).test(text));
        return result(operator === "REGEX MATCH" ? matched : !matched);
      } catch (error) {
        if (error instanceof RegexTooComplexError || error instanceof RegexSyntaxError)
          return result(false, error.message);
        throw error;
      }
    }
    case "Greater_Than":
    case "Greater_Than_OR_EQUALS":
    case "Less_Than":
    case "Less_Than_OR_EQUALS": {
      if (!INTEGER_PATTERN.test(text.trim())) return result(false, `"${text}" is not an integer`);
      const left = BigInt(text.trim());
      const right = BigInt((values[0] ?? "0").trim());
      const matched =
        operator === "Greater_Than"
          ? left > right
          : operator === "Greater_Than_OR_EQUALS"
            ? left >= right
            : operator === "Less_Than"
              ? left < right
              : left <= right;
      return result(matched);
    }
    default:
      return result(false, `unknown operator "${operator}"`);
  }
}

/**
 * Decides whether a source object is in scope: in scope when any filter (group) has all of its clauses
 * true, or when there is no filter at all. Throws ScopeFilterError for an invalid filter, because Entra
 * would not have accepted it.
 */
export function evaluateScope(
  filter: TScopeFilterInput | TScopeFilter | null | undefined,
  source: Readonly<Record<string, unknown>>,
): ScopeEvaluation {
  const validation = validateScopeFilter(filter);
  if (!validation.valid) throw new ScopeFilterError(validation.problems);
  const parsed = ZScopeFilter.parse(filter ?? { groups: [] });
  const groups = parsed.groups.map((group): GroupResult => {
    const clauses = group.clauses.map((clause) => evaluateClause(clause, source));
    return { name: group.name, matched: clauses.every((clause) => clause.matched), clauses };
  });
  return { inScope: groups.length === 0 || groups.some((group) => group.matched), groups };
}

/** The source attributes a filter reads (for Microsoft Graph $select). */
export function scopeAttributes(filter: TScopeFilterInput | null | undefined): string[] {
  const names = new Set<string>();
  for (const group of filter?.groups ?? [])
    for (const clause of group.clauses ?? []) names.add(clause.sourceOperandName);
  return [...names];
}
