import type { ComparisonOperator, ExpressionNode } from "./ast";
import { ExpressionEvaluationError, ExpressionLimitError } from "./errors";
import { lookupFunction, type CallContext, type EvaluatedArgument } from "./functions";
import { parseExpression } from "./parser";
import {
  EntraDateTime,
  IGNORE_FLOW,
  describeValue,
  fromSourceValue,
  isNullOrEmpty,
  toExportedValue,
  toText,
  type EntraValue,
  type ExportedValue,
} from "./values";

export interface EvaluationOptions {
  /** The instant Now() returns; defaults to the current time. */
  now?: Date;
  /** Uniform random numbers in [0, 1) for Guid and RandomString; defaults to crypto.getRandomValues. */
  random?: () => number;
  /** Target uniqueness check for SelectUniqueValue. */
  isUniqueValue?: (value: string) => boolean;
  /** Bounds on the work one evaluation may do; the defaults apply when omitted. */
  limits?: Partial<EvaluationLimits>;
}

export interface EvaluationLimits {
  /** Longest string (or multi-valued attribute, all values together) any step may produce. */
  maxValueLength: number;
  /** Characters all steps together may produce. */
  maxTotalLength: number;
  /** Sub-expressions evaluated (a 10,000-character expression has far fewer nodes). */
  maxSteps: number;
  /** Milliseconds the evaluation may take; unbounded unless given (a sync must not fail on a slow host). */
  maxMilliseconds: number;
}

/**
 * Directory attributes are far shorter (Entra caps most at 256 or 1,024 characters) and a SCIM attribute
 * value this long is nothing a target accepts, so only a runaway expression reaches these.
 */
export const DEFAULT_EVALUATION_LIMITS: EvaluationLimits = {
  maxValueLength: 64 * 1024,
  maxTotalLength: 1024 * 1024,
  maxSteps: 10_000,
  maxMilliseconds: Infinity,
};

/** A trace shows the start of a long value only: the editor cannot display more, and memory stays bounded. */
const MAX_TRACE_VALUE_LENGTH = 1_000;

export interface TraceStep {
  /** The sub-expression as written. */
  expression: string;
  start: number;
  end: number;
  /** 0 for the whole expression, +1 per nesting level. */
  depth: number;
  /** Display form of the value (e.g. `"Sales"`, `NULL`, `True`); "[Redact]" under Redact. */
  value: string;
  note?: string;
}

export interface EvaluationResult {
  /** What Entra exports; undefined when IgnoreFlowIfNullOrEmpty dropped the attribute. */
  value: ExportedValue | undefined;
  /** The internal value, for callers that need the DateTime or app-role objects. */
  raw: EntraValue;
  /** Redact() was used: logs must show "[Redact]" instead of the value. */
  redacted: boolean;
  /** Every sub-expression with its value, in reading order (parents before children). */
  trace: TraceStep[];
}

const REDACTED = "[Redact]";

function defaultRandom(): number {
  const buffer = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buffer);
  return (buffer[0] as number) / 2 ** 32;
}

/** Looks an attribute up by its exact name, then case-insensitively (directory attribute names are). */
function readAttribute(source: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(source, name)) return source[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(source)) {
    if (key.toLowerCase() === lower) return source[key];
  }
  return undefined;
}

function numericValue(value: EntraValue): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function compare(operator: ComparisonOperator, left: EntraValue, right: EntraValue): boolean {
  let order: number;
  const leftNumber = numericValue(left);
  const rightNumber = numericValue(right);
  if (left instanceof EntraDateTime && right instanceof EntraDateTime) {
    order = Math.sign(left.epochMilliseconds - right.epochMilliseconds);
  } else if (leftNumber !== undefined && rightNumber !== undefined) {
    order = Math.sign(leftNumber - rightNumber);
  } else {
    const a = toText(left) ?? "";
    const b = toText(right) ?? "";
    order = a === b ? 0 : a < b ? -1 : 1; // ordinal, case-sensitive
  }
  switch (operator) {
    case "=":
      return order === 0;
    case "<>":
      return order !== 0;
    case ">":
      return order > 0;
    case ">=":
      return order >= 0;
    case "<":
      return order < 0;
    case "<=":
      return order <= 0;
  }
}

interface NodeResult {
  value: EntraValue;
  emptyAttribute: string | undefined;
}

/** The length that counts against the limits: a string's, or all values of a multi-valued one together. */
function textLength(value: EntraValue): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += typeof item === "string" ? item.length : 16;
    return total;
  }
  return 0;
}

function traceText(value: EntraValue): string {
  const text = describeValue(value);
  if (text.length <= MAX_TRACE_VALUE_LENGTH) return text;
  return `${text.slice(0, MAX_TRACE_VALUE_LENGTH)}… (${text.length.toLocaleString("en-US")} characters)`;
}

class Evaluator {
  redacted = false;
  private readonly now: Date;
  private readonly random: () => number;
  private readonly limits: EvaluationLimits;
  private readonly deadline: number;
  private steps = 0;
  private producedLength = 0;

  constructor(
    private readonly expression: string,
    private readonly source: Readonly<Record<string, unknown>>,
    private readonly options: EvaluationOptions,
    /** Owned by the caller so the steps evaluated before a failure can still be shown. */
    readonly trace: TraceStep[],
  ) {
    this.now = options.now ?? new Date();
    this.random = options.random ?? defaultRandom;
    this.limits = { ...DEFAULT_EVALUATION_LIMITS, ...options.limits };
    this.deadline = performance.now() + this.limits.maxMilliseconds;
  }

  private checkLength(length: number, node: ExpressionNode, functionName?: string): void {
    const { maxValueLength } = this.limits;
    if (length > maxValueLength) {
      throw new ExpressionLimitError(
        "value-length",
        `a value of ${length.toLocaleString("en-US")} characters would be produced; values are limited to ${maxValueLength.toLocaleString("en-US")}`,
        functionName,
        node.span,
      );
    }
  }

  /** Counts a step and its output against the limits, before the step's value is kept anywhere. */
  private account(node: ExpressionNode, value: EntraValue): void {
    const name = node.kind === "call" ? node.name : undefined;
    const length = textLength(value);
    this.checkLength(length, node, name);
    this.producedLength += length;
    if (this.producedLength > this.limits.maxTotalLength) {
      throw new ExpressionLimitError(
        "total-length",
        `the evaluation produced more than ${this.limits.maxTotalLength.toLocaleString("en-US")} characters in all`,
        name,
        node.span,
      );
    }
  }

  private countStep(node: ExpressionNode): void {
    if (++this.steps > this.limits.maxSteps) {
      throw new ExpressionLimitError(
        "steps",
        `the evaluation took more than ${this.limits.maxSteps.toLocaleString("en-US")} steps`,
        undefined,
        node.span,
      );
    }
    if (this.deadline !== Infinity && performance.now() > this.deadline) {
      throw new ExpressionLimitError(
        "time",
        `the evaluation took longer than ${this.limits.maxMilliseconds.toLocaleString("en-US")} ms`,
        undefined,
        node.span,
      );
    }
  }

  evaluate(node: ExpressionNode, depth: number): NodeResult {
    const step: TraceStep = {
      expression: this.expression.slice(node.span.start, node.span.end),
      start: node.span.start,
      end: node.span.end,
      depth,
      value: "",
    };
    this.countStep(node);
    if (node.kind !== "omitted") this.trace.push(step);
    const redactedBefore = this.redacted;
    const result = this.evaluateNode(node, depth, step);
    this.account(node, result.value);
    // Under Redact the value of the Redact call and of everything it contains stays out of the trace.
    step.value = this.redacted && !redactedBefore ? REDACTED : traceText(result.value);
    if (this.redacted && !redactedBefore) {
      for (const inner of this.trace)
        if (inner.start >= node.span.start && inner.end <= node.span.end) inner.value = REDACTED;
    }
    return result;
  }

  private evaluateNode(node: ExpressionNode, depth: number, step: TraceStep): NodeResult {
    switch (node.kind) {
      case "string":
        return { value: node.value, emptyAttribute: undefined };
      case "number":
      case "constant":
        return { value: node.value, emptyAttribute: undefined };
      case "omitted":
        return { value: null, emptyAttribute: undefined };
      case "attribute": {
        const value = fromSourceValue(readAttribute(this.source, node.name));
        return { value, emptyAttribute: isNullOrEmpty(value) ? node.name : undefined };
      }
      case "comparison": {
        const left = this.evaluate(node.left, depth + 1);
        const right = this.evaluate(node.right, depth + 1);
        const emptyAttribute = left.emptyAttribute ?? right.emptyAttribute;
        if (left.value === IGNORE_FLOW || right.value === IGNORE_FLOW)
          return { value: IGNORE_FLOW, emptyAttribute };
        return { value: compare(node.operator, left.value, right.value), emptyAttribute };
      }
      case "call": {
        const spec = lookupFunction(node.name);
        if (!spec) throw new ExpressionEvaluationError(`unknown function ${node.name}`, node.name, node.span);
        const args: EvaluatedArgument[] = node.args.map((argument) => {
          const result = this.evaluate(argument, depth + 1);
          return {
            value: result.value,
            node: argument,
            omitted: argument.kind === "omitted",
            emptyAttribute: result.emptyAttribute,
          };
        });
        const emptyAttribute = args.find((argument) => argument.emptyAttribute !== undefined)?.emptyAttribute;
        // IgnoreFlowIfNullOrEmpty anywhere inside drops the whole attribute from the flow.
        if (args.some((argument) => argument.value === IGNORE_FLOW))
          return { value: IGNORE_FLOW, emptyAttribute };
        const context: CallContext = {
          now: this.now,
          random: this.random,
          markRedacted: () => {
            this.redacted = true;
          },
          addNote: (note) => {
            step.note = step.note ? `${step.note}; ${note}` : note;
          },
          isUniqueValue: this.options.isUniqueValue,
          fail: (message) => {
            throw new ExpressionEvaluationError(message, node.name, node.span);
          },
          ensureLength: (length) => this.checkLength(length, node, node.name),
        };
        return { value: spec.evaluate(args, context), emptyAttribute };
      }
    }
  }
}

const AST_CACHE_LIMIT = 500;
const astCache = new Map<string, ExpressionNode>();

/** Parses with a small cache: a sync cycle evaluates the same few expressions for every user. */
export function parseCached(expression: string): ExpressionNode {
  const cached = astCache.get(expression);
  if (cached) return cached;
  const node = parseExpression(expression);
  if (astCache.size >= AST_CACHE_LIMIT) {
    const oldest = astCache.keys().next().value;
    if (oldest !== undefined) astCache.delete(oldest);
  }
  astCache.set(expression, node);
  return node;
}

/**
 * Evaluates an expression and explains it: the exported value, a trace of every sub-expression and
 * whether Redact was used. Throws ExpressionSyntaxError for a malformed expression and
 * ExpressionEvaluationError when Entra would fail the export (e.g. an unreadable date).
 */
export function evaluate(
  expression: string,
  source: Readonly<Record<string, unknown>>,
  options: EvaluationOptions = {},
): EvaluationResult {
  return evaluateParsed(expression, parseCached(expression), source, options, []);
}

/**
 * Evaluates an already parsed expression. `trace` receives every step as it is evaluated, so when an
 * ExpressionEvaluationError is thrown it still holds the steps up to the failing call.
 */
export function evaluateParsed(
  expression: string,
  ast: ExpressionNode,
  source: Readonly<Record<string, unknown>>,
  options: EvaluationOptions,
  trace: TraceStep[],
): EvaluationResult {
  const evaluator = new Evaluator(expression, source, options, trace);
  let raw: EntraValue;
  try {
    raw = evaluator.evaluate(ast, 0).value;
  } catch (error) {
    if (error instanceof ExpressionEvaluationError) throw error;
    // Anything else is a defect in a function; report it as an evaluation error rather than crash a cycle.
    const message = error instanceof Error ? error.message : String(error);
    throw new ExpressionEvaluationError(`internal error while evaluating: ${message}`);
  }
  return { value: toExportedValue(raw), raw, redacted: evaluator.redacted, trace: evaluator.trace };
}

/** The value Entra exports for `expression` on `source`, or undefined when the attribute must not flow. */
export function evaluateExpression(
  expression: string,
  source: Readonly<Record<string, unknown>>,
  options: EvaluationOptions = {},
): ExportedValue | undefined {
  return evaluate(expression, source, options).value;
}
