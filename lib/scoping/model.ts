import { z } from "zod";

/**
 * Operators as Entra spells them in the portal and in Microsoft Graph's filterClause.operatorName.
 * Less_Than and Less_Than_OR_EQUALS are not on Microsoft's current page but exist in the schema;
 * they mirror the Greater_Than rules.
 */
export const SCOPE_OPERATORS = [
  "EQUALS",
  "NOT EQUALS",
  "IS TRUE",
  "IS FALSE",
  "IS NULL",
  "IS NOT NULL",
  "REGEX MATCH",
  "NOT REGEX MATCH",
  "Greater_Than",
  "Greater_Than_OR_EQUALS",
  "Less_Than",
  "Less_Than_OR_EQUALS",
  "Includes",
  "ENDS_WITH",
  "&",
  "!&",
] as const;

export type ScopeOperator = (typeof SCOPE_OPERATORS)[number];

/** Operators that take no value. */
export const UNARY_SCOPE_OPERATORS: ReadonlySet<string> = new Set([
  "IS TRUE",
  "IS FALSE",
  "IS NULL",
  "IS NOT NULL",
]);
export const INTEGER_SCOPE_OPERATORS: ReadonlySet<string> = new Set([
  "Greater_Than",
  "Greater_Than_OR_EQUALS",
  "Less_Than",
  "Less_Than_OR_EQUALS",
]);
export const REGEX_SCOPE_OPERATORS: ReadonlySet<string> = new Set(["REGEX MATCH", "NOT REGEX MATCH"]);

/** Microsoft Graph filterClause. operatorName is a plain string here so an unknown one can be reported by validation. */
export const ZScopeClause = z.object({
  operatorName: z.string().max(64),
  sourceOperandName: z.string().max(256),
  // A value may be a regular expression; 2,048 is the regex engine's pattern limit.
  targetOperand: z
    .object({ values: z.array(z.string().max(2048)).max(1000).default([]) })
    .default({ values: [] }),
});

/** Microsoft Graph filterGroup: its clauses are AND-ed. */
export const ZScopeGroup = z.object({
  name: z.string().max(256).default(""),
  clauses: z.array(ZScopeClause).max(100).default([]),
});

/** Microsoft Graph filter: groups are OR-ed; no groups means every object is in scope. */
export const ZScopeFilter = z.object({
  groups: z.array(ZScopeGroup).max(100).default([]),
});

export type TScopeClause = z.infer<typeof ZScopeClause>;
export type TScopeGroup = z.infer<typeof ZScopeGroup>;
export type TScopeFilter = z.infer<typeof ZScopeFilter>;
/** What callers may pass: defaults (empty values, unnamed groups) filled in by evaluateScope. */
export type TScopeFilterInput = z.input<typeof ZScopeFilter>;
