import type { ComparisonOperator, ExpressionNode, SourceSpan } from "./ast";
import { ExpressionSyntaxError, positionAt } from "./errors";
import { FUNCTION_REGISTRY, describeArgumentCount, lookupFunction } from "./functions";

/** Entra rejects longer expressions (known-issues page). */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Keeps the recursive parser and evaluator far from the call-stack limit. */
export const MAX_NESTING_DEPTH = 64;

/** VBA constants Entra's documentation uses as bare words (InStr's compareType). */
const NAMED_CONSTANTS: Record<string, number> = { vbBinaryCompare: 0, vbTextCompare: 1 };

const EXPECTED_OPERAND = ["a function call such as Append(...)", "an [attribute]", 'a "string"', "a number"];
const COMPARISON_OPERATORS: ComparisonOperator[] = ["<>", "<=", ">=", "=", "<", ">"];

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a.charAt(i - 1) === b.charAt(j - 1) ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

function suggestFunction(name: string): string | undefined {
  const names = [...FUNCTION_REGISTRY.keys()];
  const caseInsensitive = names.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (caseInsensitive) return caseInsensitive;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const distance = editDistance(candidate.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly source: string) {}

  private error(reason: string, offset: number, expected: readonly string[] = []): ExpressionSyntaxError {
    return new ExpressionSyntaxError(reason, positionAt(this.source, offset), expected);
  }

  private describeHere(): string {
    if (this.index >= this.source.length) return "the end of the expression";
    return JSON.stringify(this.source.charAt(this.index));
  }

  private skipWhitespace(): void {
    while (this.index < this.source.length && /[ \t\r\n\u00a0]/.test(this.source.charAt(this.index)))
      this.index++;
  }

  parse(): ExpressionNode {
    this.skipWhitespace();
    if (this.index >= this.source.length) {
      throw this.error("The expression is empty", this.index, EXPECTED_OPERAND);
    }
    const node = this.parseComparison(true);
    this.skipWhitespace();
    if (this.index < this.source.length) {
      throw this.error(`Unexpected ${this.describeHere()} after the end of the expression`, this.index, [
        "the end of the expression",
      ]);
    }
    return node;
  }

  private parseComparison(topLevel: boolean): ExpressionNode {
    const left = this.parseOperand(topLevel);
    this.skipWhitespace();
    const operator = COMPARISON_OPERATORS.find((candidate) => this.source.startsWith(candidate, this.index));
    if (!operator) return left;
    this.index += operator.length;
    this.skipWhitespace();
    const right = this.parseOperand(false);
    const node: ExpressionNode = {
      kind: "comparison",
      operator,
      left,
      right,
      span: { start: left.span.start, end: right.span.end },
    };
    this.skipWhitespace();
    if (COMPARISON_OPERATORS.some((candidate) => this.source.startsWith(candidate, this.index))) {
      throw this.error("Comparisons cannot be chained; nest IIF calls instead", this.index, ['","', '")"']);
    }
    return node;
  }

  private parseOperand(topLevel: boolean): ExpressionNode {
    const start = this.index;
    const char = this.source.charAt(start);
    if (char === "[") return this.parseAttribute();
    if (char === '"') return this.parseString();
    if (
      /[0-9]/.test(char) ||
      ((char === "-" || char === "+" || char === ".") && /[0-9.]/.test(this.source.charAt(start + 1)))
    ) {
      return this.parseNumber();
    }
    if (char === "&" && /[Hh]/.test(this.source.charAt(start + 1))) return this.parseHexNumber();
    if (/[A-Za-z_]/.test(char)) return this.parseName(topLevel);
    throw this.error(
      this.index >= this.source.length
        ? "The expression ends too early"
        : `Unexpected ${this.describeHere()}`,
      start,
      EXPECTED_OPERAND,
    );
  }

  private parseAttribute(): ExpressionNode {
    const start = this.index;
    const close = this.source.indexOf("]", start + 1);
    const newline = this.source.slice(start + 1, close < 0 ? undefined : close).search(/[\r\n[]/);
    if (close < 0 || newline >= 0) {
      throw this.error("Unterminated attribute name: missing ]", start, ['"]"']);
    }
    const name = this.source.slice(start + 1, close).trim();
    if (name === "") throw this.error("Empty attribute name []", start, ["an attribute name such as [mail]"]);
    this.index = close + 1;
    return { kind: "attribute", name, span: { start, end: this.index } };
  }

  private parseString(): ExpressionNode {
    const start = this.index;
    let value = "";
    let cursor = start + 1;
    while (cursor < this.source.length) {
      const char = this.source.charAt(cursor);
      if (char === '"') {
        this.index = cursor + 1;
        return { kind: "string", value, span: { start, end: this.index } };
      }
      if (char === "\\") {
        const next = this.source.charAt(cursor + 1);
        if (next === '"' || next === "\\") {
          value += next;
          cursor += 2;
          continue;
        }
        // Any other backslash is kept as written, so "\d" reaches a regular expression unchanged.
        value += char;
        cursor++;
        continue;
      }
      value += char;
      cursor++;
    }
    throw this.error('Unterminated string: missing closing "', start, ['"\\""']);
  }

  private parseNumber(): ExpressionNode {
    const start = this.index;
    const match = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(this.source.slice(start));
    if (!match) throw this.error("Malformed number", start, ["a number such as 7 or -10"]);
    this.index += match[0].length;
    return { kind: "number", value: Number(match[0]), raw: match[0], span: { start, end: this.index } };
  }

  private parseHexNumber(): ExpressionNode {
    const start = this.index;
    const match = /^&[Hh]([0-9A-Fa-f]{1,16})/.exec(this.source.slice(start));
    if (!match) throw this.error("Malformed hexadecimal number", start, ["hexadecimal digits after &H"]);
    this.index += match[0].length;
    const value = Number(BigInt.asIntN(64, BigInt(`0x${match[1]}`)));
    return { kind: "number", value, raw: match[0], span: { start, end: this.index } };
  }

  private parseName(topLevel: boolean): ExpressionNode {
    const start = this.index;
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.source.slice(start))?.[0] ?? "";
    this.index += name.length;
    const afterName = this.index;
    this.skipWhitespace();
    if (this.source.charAt(this.index) !== "(") {
      const constant = NAMED_CONSTANTS[name];
      if (constant !== undefined) {
        this.index = afterName;
        return { kind: "constant", name, value: constant, span: { start, end: afterName } };
      }
      if (lookupFunction(name)) {
        throw this.error(`Function ${name} must be followed by its arguments in parentheses`, this.index, [
          '"("',
        ]);
      }
      throw this.error(
        `Unknown name ${name}: attributes go in square brackets and strings in double quotes`,
        start,
        [`[${name}]`, `"${name}"`, "a function call"],
      );
    }
    const spec = lookupFunction(name);
    if (!spec) {
      const suggestion = suggestFunction(name);
      throw this.error(
        `Unknown function ${name}${suggestion ? ` (function names are case-sensitive; did you mean ${suggestion}?)` : ""}`,
        start,
        suggestion ? [suggestion] : ["a known function name"],
      );
    }
    if (spec.topLevelOnly && !topLevel) {
      throw this.error(`${name} must be the outermost function; it cannot be nested`, start);
    }
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw this.error(`Functions are nested more than ${MAX_NESTING_DEPTH} levels deep`, start);
    }
    const openParen = this.index;
    this.index++;
    const args = this.parseArguments(openParen);
    this.depth--;
    const span: SourceSpan = { start, end: this.index };
    const countProblem = describeArgumentCount(spec, args.length);
    if (countProblem) throw this.error(countProblem, start);
    return { kind: "call", name, args, span };
  }

  private parseArguments(openParen: number): ExpressionNode[] {
    const args: ExpressionNode[] = [];
    this.skipWhitespace();
    if (this.source.charAt(this.index) === ")") {
      this.index++;
      return args;
    }
    for (;;) {
      this.skipWhitespace();
      const char = this.source.charAt(this.index);
      if (char === "," || char === ")") {
        args.push({ kind: "omitted", span: { start: this.index, end: this.index } });
      } else if (this.index >= this.source.length) {
        throw this.error("Unclosed ( : the expression ends inside the argument list", openParen, ['")"']);
      } else {
        args.push(this.parseComparison(false));
      }
      this.skipWhitespace();
      const separator = this.source.charAt(this.index);
      if (separator === ",") {
        this.index++;
        continue;
      }
      if (separator === ")") {
        this.index++;
        return args;
      }
      if (this.index >= this.source.length) {
        throw this.error("Unclosed ( : the expression ends inside the argument list", openParen, [
          '","',
          '")"',
        ]);
      }
      throw this.error(`Unexpected ${this.describeHere()} in the argument list`, this.index, ['","', '")"']);
    }
  }
}

/** Parses an Entra expression into an AST, or throws ExpressionSyntaxError naming the position. */
export function parseExpression(source: string): ExpressionNode {
  if (typeof source !== "string") {
    throw new ExpressionSyntaxError("The expression must be a string", positionAt("", 0));
  }
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(
      `The expression is ${source.length.toLocaleString("en-US")} characters long; Entra accepts at most ${MAX_EXPRESSION_LENGTH.toLocaleString("en-US")}`,
      positionAt(source, MAX_EXPRESSION_LENGTH),
    );
  }
  return new Parser(source).parse();
}
