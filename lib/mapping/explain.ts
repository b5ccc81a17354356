import {
  ExpressionEvaluationError,
  ExpressionLimitError,
  ExpressionSyntaxError,
  positionAt,
  type SourcePosition,
} from "./errors";
import { evaluateParsed, parseCached, type EvaluationOptions, type TraceStep } from "./evaluator";
import type { ExportedValue } from "./values";

export interface ExpressionProblem {
  /** "syntax": the expression cannot be saved. "evaluation": it is valid but fails on this source object, as Entra's export would. */
  kind: "syntax" | "evaluation";
  /** Without the position suffix, so the editor can show the position its own way. */
  message: string;
  /** Where to put the caret: the offending token, or the start of the function call that failed. */
  position?: SourcePosition;
  /** End of the failing call (evaluation errors), so an editor can underline the whole call. */
  end?: SourcePosition;
  /** What the parser would have accepted at `position` (syntax errors only). */
  expected?: string[];
  /** The function whose evaluation failed. */
  functionName?: string;
  /** The evaluation outgrew a bound (value length, total output, steps, time) rather than failing on data. */
  limitExceeded?: ExpressionLimitError["limit"];
}

export type ExplainResult =
  | {
      ok: true;
      /** What Entra would export; undefined when IgnoreFlowIfNullOrEmpty dropped the attribute. */
      value: ExportedValue | undefined;
      /** False when the attribute would not flow at all (IgnoreFlowIfNullOrEmpty). */
      flows: boolean;
      /** Redact() was used: provisioning logs would show "[Redact]" (the trace already does). */
      redacted: boolean;
      trace: TraceStep[];
    }
  | {
      ok: false;
      error: ExpressionProblem;
      /** The steps evaluated before the failure; empty for a syntax error. */
      trace: TraceStep[];
    };

/**
 * Parses and evaluates an expression for the mapping editor's live preview. Unlike `evaluate` it never
 * throws: the editor calls it on every keystroke with half-typed expressions and arbitrary test objects,
 * and a thrown error there would blank the preview instead of pointing at the problem.
 */
export function explainExpression(
  expression: string,
  source?: Readonly<Record<string, unknown>> | null,
  options: EvaluationOptions = {},
): ExplainResult {
  const text: unknown = expression;
  const trace: TraceStep[] = [];
  try {
    const ast = parseCached(expression);
    const sourceObject =
      source !== null && typeof source === "object" && !Array.isArray(source) ? source : {};
    const result = evaluateParsed(expression, ast, sourceObject, options ?? {}, trace);
    return {
      ok: true,
      value: result.value,
      flows: result.value !== undefined,
      redacted: result.redacted,
      trace: result.trace,
    };
  } catch (error) {
    const written = typeof text === "string" ? text : "";
    if (error instanceof ExpressionSyntaxError) {
      return {
        ok: false,
        error: {
          kind: "syntax",
          message: error.reason,
          position: error.position,
          expected: [...error.expected],
        },
        trace: [],
      };
    }
    if (error instanceof ExpressionEvaluationError) {
      return {
        ok: false,
        error: {
          kind: "evaluation",
          message: error.message,
          ...(error.span
            ? { position: positionAt(written, error.span.start), end: positionAt(written, error.span.end) }
            : {}),
          ...(error.functionName ? { functionName: error.functionName } : {}),
          ...(error instanceof ExpressionLimitError ? { limitExceeded: error.limit } : {}),
        },
        trace,
      };
    }
    // A defect of ours must still not take the editor down; say so plainly.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { kind: "evaluation", message: `internal error: ${message}` }, trace };
  }
}
