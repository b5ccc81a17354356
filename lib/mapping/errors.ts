export interface SourcePosition {
  /** 0-based character offset. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

export function positionAt(source: string, offset: number): SourcePosition {
  const clamped = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < clamped; index++) {
    if (source.charCodeAt(index) === 10) {
      line++;
      lineStart = index + 1;
    }
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}

/** Thrown by parseExpression: the expression cannot be accepted as written. */
export class ExpressionSyntaxError extends Error {
  override readonly name = "ExpressionSyntaxError";
  readonly position: SourcePosition;
  /** What the parser would have accepted at `position` (empty when the problem is not about a token). */
  readonly expected: readonly string[];
  /** The message without the position suffix, for UIs that show the position themselves. */
  readonly reason: string;

  constructor(reason: string, position: SourcePosition, expected: readonly string[] = []) {
    super(`${reason} (line ${position.line}, column ${position.column}, offset ${position.offset})`);
    this.position = position;
    this.expected = expected;
    this.reason = reason;
  }
}

/**
 * Thrown while evaluating a well-formed expression on data that Entra would also reject
 * (an unparseable date, a regular expression that is too expensive, a non-numeric BitAnd operand...).
 * Entra fails the export of that one object; callers do the same and log `message`.
 */
export class ExpressionEvaluationError extends Error {
  override readonly name: string = "ExpressionEvaluationError";
  /** The function whose evaluation failed, when known. */
  readonly functionName: string | undefined;
  readonly span: { start: number; end: number } | undefined;

  constructor(message: string, functionName?: string, span?: { start: number; end: number }) {
    super(functionName ? `${functionName}: ${message}` : message);
    this.functionName = functionName;
    this.span = span;
  }
}

/**
 * The evaluation was stopped because it outgrew a bound (the length of one value, the text produced in
 * all, the number of steps or the time allowed): an expression amplifying its input must not take the
 * process's memory or CPU with it. Like any evaluation error it fails only this object.
 */
export class ExpressionLimitError extends ExpressionEvaluationError {
  override readonly name = "ExpressionLimitError";
  constructor(
    readonly limit: "value-length" | "total-length" | "steps" | "time",
    message: string,
    functionName?: string,
    span?: { start: number; end: number },
  ) {
    super(message, functionName, span);
  }
}
