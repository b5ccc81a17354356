import type { ComparisonOperator, ExpressionNode } from "./ast";
import { ExpressionEvaluationError } from "./errors";
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
}

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

class Evaluator {
  redacted = false;
  private readonly now: Date;
  private readonly random: () => number;

  constructor(
    private readonly expression: string,
    private readonly source: Readonly<Record<string, unknown>>,
    private readonly options: EvaluationOptions,
    /** Owned by the caller so the steps evaluated before a failure can still be shown. */
    readonly trace: TraceStep[],
  ) {
    this.now = options.now ?? new Date();
    this.random = options.random ?? defaultRandom;
  }

  evaluate(node: ExpressionNode, depth: number): NodeResult {
    const step: TraceStep = {
      expression: this.expression.slice(node.span.start, node.span.end),
      start: node.span.start,
      end: node.span.end,
      depth,
      value: "",
    };
    if (node.kind !== "omitted") this.trace.push(step);
    const redactedBefore = this.redacted;
    const result = this.evaluateNode(node, depth, step);
    // Under Redact the value of the Redact call and of everything it contains stays out of the trace.
    step.value = this.redacted && !redactedBefore ? REDACTED : describeValue(result.value);
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
