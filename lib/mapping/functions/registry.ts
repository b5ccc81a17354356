import type { ExpressionNode } from "../ast";
import { ExpressionEvaluationError } from "../errors";
import type { EntraValue, ExportedValue } from "../values";

export interface ParameterSpec {
  name: string;
  /** May be left out (or left empty). */
  optional?: boolean;
  /** May be given any number of times (at least once unless optional). */
  repeating?: boolean;
  description: string;
}

/** A documented input/output pair: rendered into docs/expressions.md and run as a test. */
export interface FunctionExample {
  expression: string;
  source?: Record<string, unknown>;
  /** undefined means "the attribute does not flow". */
  output: ExportedValue | undefined;
  /** ISO instant used for Now(). */
  now?: string;
  note?: string;
  /** Where the example comes from; "Microsoft" marks examples copied from Microsoft's reference page. */
  origin: "Microsoft" | "ours";
}

export interface EvaluatedArgument {
  value: EntraValue;
  node: ExpressionNode;
  /** The argument was left empty, as in `Replace([mail], "@contoso.com", , , "", , )`. */
  omitted: boolean;
  /** Set when the argument read an attribute that is NULL or empty (IIF fails its check on those). */
  emptyAttribute: string | undefined;
}

export interface CallContext {
  now: Date;
  /** Uniform in [0, 1): Guid and RandomString draw from it, so tests can make them repeatable. */
  random: () => number;
  markRedacted(): void;
  addNote(note: string): void;
  /** Target uniqueness check for SelectUniqueValue; Entra only offers it for HR → Active Directory. */
  isUniqueValue: ((value: string) => boolean) | undefined;
  fail(message: string): never;
  /**
   * Fails the evaluation (ExpressionLimitError) if a string of this many characters would be longer than
   * any value may be. Functions whose output can outgrow their inputs (Join's separator, Replace's
   * replacement repeated per match) call it before building the string.
   */
  ensureLength(length: number): void;
}

export type FunctionCategory =
  "Text" | "Date and time" | "Logic" | "Multi-valued" | "Encoding" | "App roles" | "Flow control";

export interface FunctionSpec {
  name: string;
  category: FunctionCategory;
  parameters: readonly ParameterSpec[];
  summary: string;
  /** How NULL, empty and multi-valued inputs behave. */
  nulls: string;
  examples: readonly FunctionExample[];
  /** Extra argument-count rule beyond min/max (Switch takes pairs). Returns the problem or null. */
  checkArgumentCount?: (count: number) => string | null;
  /** Overrides the min/max derived from `parameters` (FormatDateTime's optional middle parameter). */
  argumentRange?: { min: number; max: number };
  /** Written-out signature when the parameter list cannot express it (Switch's key/value pairs). */
  signature?: string;
  /** Must not be nested inside another function (SelectUniqueValue). */
  topLevelOnly?: boolean;
  evaluate(args: readonly EvaluatedArgument[], context: CallContext): EntraValue;
}

export function argumentRange(spec: FunctionSpec): { min: number; max: number } {
  if (spec.argumentRange) return spec.argumentRange;
  let min = 0;
  let max = 0;
  for (const parameter of spec.parameters) {
    if (!parameter.optional) min++;
    max = parameter.repeating ? Infinity : max + 1;
  }
  return { min, max };
}

export function signatureOf(spec: FunctionSpec): string {
  if (spec.signature) return spec.signature;
  const parts = spec.parameters.map((parameter) => {
    const name = parameter.repeating ? `${parameter.name}1, …, ${parameter.name}N` : parameter.name;
    return parameter.optional ? `[${name}]` : name;
  });
  return `${spec.name}(${parts.join(", ")})`;
}

export function describeArgumentCount(spec: FunctionSpec, count: number): string | null {
  const { min, max } = argumentRange(spec);
  const expected =
    min === max
      ? `${min} argument${min === 1 ? "" : "s"}`
      : max === Infinity
        ? `at least ${min} arguments`
        : `${min} to ${max} arguments`;
  if (count < min || count > max) {
    return `${spec.name} takes ${expected} but was given ${count}: ${signatureOf(spec)}`;
  }
  const custom = spec.checkArgumentCount?.(count);
  return custom ? `${spec.name}: ${custom}: ${signatureOf(spec)}` : null;
}

export function failure(message: string): never {
  throw new ExpressionEvaluationError(message);
}
