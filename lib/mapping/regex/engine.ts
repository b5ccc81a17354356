/**
 * A backtracking regular-expression engine for .NET pattern syntax with a step budget.
 *
 * Why not `new RegExp(...)`: Replace() and the REGEX MATCH scoping operators run administrator-written
 * patterns against directory data. V8 has no match timeout, so a pattern such as `(a+)+$` or `(.*)*x`
 * blocks the worker's event loop for minutes on a 30-character input (catastrophic backtracking), and a
 * worker thread per evaluation would make every expression asynchronous. .NET itself bounds such work with
 * Regex.MatchTimeout. We do the equivalent synchronously:
 *   1. the input is capped (MAX_REGEX_INPUT_LENGTH characters; directory string attributes are far
 *      shorter), which also bounds recursion depth; and
 *   2. this matcher counts every step it takes and gives up with RegexTooComplexError after
 *      DEFAULT_STEP_BUDGET steps, so evaluation always ends in milliseconds with an explained error.
 * Owning the matcher also lets us follow .NET rather than JavaScript where they differ: `(?<name>...)` and
 * `(?'name'...)` groups numbered after unnamed ones, inline options `(?i)`, `(?imnsx:...)`, atomic groups
 * `(?>...)`, `\A \z \Z`, `$` also matching before a final newline, Unicode `\w \d \s`, `\p{L}` categories,
 * class subtraction `[a-z-[aeiou]]`, a backreference to a group that did not participate failing, and
 * .NET's replacement syntax (`$1`, `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+`, `$_`).
 */

export const MAX_REGEX_INPUT_LENGTH = 1024;
export const MAX_REGEX_PATTERN_LENGTH = 2048;
export const DEFAULT_STEP_BUDGET = 1_000_000;

export class RegexSyntaxError extends Error {
  override readonly name = "RegexSyntaxError";
  constructor(
    readonly reason: string,
    /** 0-based offset into the pattern. */
    readonly offset: number,
  ) {
    super(`invalid regular expression: ${reason} at pattern character ${offset + 1}`);
  }
}

export class RegexTooComplexError extends Error {
  override readonly name = "RegexTooComplexError";
  constructor(reason: string) {
    super(reason);
  }
}

type CharTest = (code: number) => boolean;

type RegexNode =
  | { type: "empty" }
  | { type: "char"; test: CharTest }
  | { type: "seq"; items: RegexNode[] }
  | { type: "alt"; options: RegexNode[] }
  | { type: "group"; capture: GroupInfo | null; body: RegexNode }
  | { type: "look"; behind: boolean; negate: boolean; body: RegexNode }
  | { type: "atomic"; body: RegexNode }
  | { type: "repeat"; body: RegexNode; min: number; max: number; greedy: boolean }
  | { type: "assert"; kind: AssertKind }
  | {
      type: "backref";
      group: GroupInfo | { pendingName: string } | { pendingNumber: number };
      ignoreCase: boolean;
    };

type AssertKind =
  "lineStart" | "lineEnd" | "start" | "end" | "endOrFinalNewline" | "wordBoundary" | "notWordBoundary";

interface GroupInfo {
  number: number;
  name: string | undefined;
}

interface Flags {
  ignoreCase: boolean;
  multiline: boolean;
  singleline: boolean;
  explicitCapture: boolean;
  ignoreWhitespace: boolean;
}

const propertyTestCache = new Map<string, RegExp>();

function unicodePropertyTest(name: string, offset: number): CharTest {
  // .NET names general categories (L, Lu, Nd...) and named blocks (IsGreek...). Categories map directly to
  // JavaScript's \p{...}; blocks are not supported and are reported as such.
  let regex = propertyTestCache.get(name);
  if (!regex) {
    try {
      regex = new RegExp(`^\\p{${name}}$`, "u");
    } catch {
      throw new RegexSyntaxError(`unknown Unicode category \\p{${name}}`, offset);
    }
    propertyTestCache.set(name, regex);
  }
  const compiled = regex;
  return (code) => compiled.test(String.fromCharCode(code));
}

const WORD_REGEX = /^[\p{L}\p{Mn}\p{Nd}\p{Pc}]$/u;
const DIGIT_REGEX = /^\p{Nd}$/u;
const SPACE_REGEX = /^[\f\n\r\t\v\x85\p{Z}]$/u;
const isWordChar: CharTest = (code) => WORD_REGEX.test(String.fromCharCode(code));
const isDigitChar: CharTest = (code) => DIGIT_REGEX.test(String.fromCharCode(code));
const isSpaceChar: CharTest = (code) => SPACE_REGEX.test(String.fromCharCode(code));
const not =
  (test: CharTest): CharTest =>
  (code) =>
    !test(code);

function caseVariants(code: number): number[] {
  const char = String.fromCharCode(code);
  const variants = new Set([code]);
  for (const other of [char.toLowerCase(), char.toUpperCase()]) {
    if (other.length === 1) variants.add(other.charCodeAt(0));
  }
  return [...variants];
}

function withCase(test: CharTest, ignoreCase: boolean): CharTest {
  if (!ignoreCase) return test;
  return (code) => caseVariants(code).some(test);
}

class PatternParser {
  private index = 0;
  private readonly groups: { info: GroupInfo; named: boolean; order: number }[] = [];
  private readonly pendingBackrefs: Extract<RegexNode, { type: "backref" }>[] = [];

  constructor(private readonly pattern: string) {}

  parse(initial: Flags): { root: RegexNode; groups: GroupInfo[] } {
    const root = this.parseAlternation(initial);
    if (this.index < this.pattern.length) {
      throw new RegexSyntaxError("too many closing parentheses", this.index);
    }
    // .NET numbers unnamed groups first (left to right), then named groups.
    let next = 1;
    for (const group of this.groups.filter((candidate) => !candidate.named)) group.info.number = next++;
    for (const group of this.groups.filter((candidate) => candidate.named)) {
      const existing = this.groups.find(
        (other) =>
          other !== group && other.named && other.info.name === group.info.name && other.info.number > 0,
      );
      group.info.number = existing ? existing.info.number : next++;
    }
    const infos = this.groups.map((group) => group.info);
    for (const backref of this.pendingBackrefs) {
      const target = backref.group;
      if ("pendingName" in target) {
        const found = infos.find((info) => info.name === target.pendingName);
        if (!found)
          throw new RegexSyntaxError(`reference to undefined group name "${target.pendingName}"`, 0);
        backref.group = found;
      } else if ("pendingNumber" in target) {
        const found = infos.find((info) => info.number === target.pendingNumber);
        if (!found)
          throw new RegexSyntaxError(`reference to undefined group number ${target.pendingNumber}`, 0);
        backref.group = found;
      }
    }
    return { root, groups: infos };
  }

  private peek(offset = 0): string {
    return this.pattern.charAt(this.index + offset);
  }

  private parseAlternation(flags: Flags): RegexNode {
    const options: RegexNode[] = [this.parseSequence(flags)];
    while (this.peek() === "|") {
      this.index++;
      options.push(this.parseSequence(flags));
    }
    return options.length === 1 ? (options[0] as RegexNode) : { type: "alt", options };
  }

  private parseSequence(outerFlags: Flags): RegexNode {
    // Inline options such as (?i) change the flags for the rest of the enclosing group.
    const flags = { ...outerFlags };
    const items: RegexNode[] = [];
    while (this.index < this.pattern.length && this.peek() !== "|" && this.peek() !== ")") {
      if (flags.ignoreWhitespace) {
        const char = this.peek();
        if (/\s/.test(char)) {
          this.index++;
          continue;
        }
        if (char === "#") {
          while (this.index < this.pattern.length && this.peek() !== "\n") this.index++;
          continue;
        }
      }
      const atomStart = this.index;
      const atom = this.parseAtom(flags);
      if (atom === null) continue;
      items.push(this.parseQuantifier(atom, atomStart));
    }
    if (items.length === 0) return { type: "empty" };
    return items.length === 1 ? (items[0] as RegexNode) : { type: "seq", items };
  }

  private readQuantifier(): { min: number; max: number } | null {
    const char = this.peek();
    if (char === "*") return { min: 0, max: Infinity };
    if (char === "+") return { min: 1, max: Infinity };
    if (char === "?") return { min: 0, max: 1 };
    if (char === "{") {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.index));
      if (!match) return null; // .NET reads a "{" that starts no quantifier as a literal.
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] === "" ? Infinity : Number(match[3]);
      return { min, max };
    }
    return null;
  }

  private quantifierLength(): number {
    const char = this.peek();
    if (char !== "{") return 1;
    return (/^\{\d+(,\d*)?\}/.exec(this.pattern.slice(this.index))?.[0] ?? "{").length;
  }

  private parseQuantifier(atom: RegexNode, _atomStart: number): RegexNode {
    const quantifier = this.readQuantifier();
    if (!quantifier) return atom;
    if (quantifier.max < quantifier.min) throw new RegexSyntaxError("illegal {x,y} with x > y", this.index);
    this.index += this.quantifierLength();
    let greedy = true;
    if (this.peek() === "?") {
      greedy = false;
      this.index++;
    }
    if (this.readQuantifier()) throw new RegexSyntaxError(`nested quantifier "${this.peek()}"`, this.index);
    return { type: "repeat", body: atom, min: quantifier.min, max: quantifier.max, greedy };
  }

  private parseAtom(flags: Flags): RegexNode | null {
    const start = this.index;
    const char = this.peek();
    this.index++;
    switch (char) {
      case ".":
        return { type: "char", test: flags.singleline ? () => true : (code) => code !== 10 };
      case "^":
        return { type: "assert", kind: flags.multiline ? "lineStart" : "start" };
      case "$":
        return { type: "assert", kind: flags.multiline ? "lineEnd" : "endOrFinalNewline" };
      case "[":
        return { type: "char", test: withCase(this.parseClass(start), flags.ignoreCase) };
      case "(":
        return this.parseGroup(flags, start);
      case "\\":
        return this.parseEscape(flags, start);
      case "*":
      case "+":
      case "?":
        throw new RegexSyntaxError(`quantifier "${char}" follows nothing`, start);
      default: {
        const code = char.charCodeAt(0);
        return { type: "char", test: withCase((candidate) => candidate === code, flags.ignoreCase) };
      }
    }
  }

  private parseGroup(flags: Flags, start: number): RegexNode | null {
    const inner = { ...flags };
    if (this.peek() !== "?") {
      if (flags.explicitCapture) return this.finishGroup(inner, start, null);
      return this.finishGroup(inner, start, this.newGroup(undefined));
    }
    this.index++;
    const next = this.peek();
    if (next === ":") {
      this.index++;
      return this.finishGroup(inner, start, null);
    }
    if (next === "=" || next === "!") {
      this.index++;
      const body = this.parseAlternation(inner);
      this.expectClose(start);
      return { type: "look", behind: false, negate: next === "!", body };
    }
    if (next === ">") {
      this.index++;
      const body = this.parseAlternation(inner);
      this.expectClose(start);
      return { type: "atomic", body };
    }
    if (next === "#") {
      const close = this.pattern.indexOf(")", this.index);
      if (close < 0) throw new RegexSyntaxError("unterminated (?#...) comment", start);
      this.index = close + 1;
      return null;
    }
    if (next === "<" && (this.peek(1) === "=" || this.peek(1) === "!")) {
      const negate = this.peek(1) === "!";
      this.index += 2;
      const body = this.parseAlternation(inner);
      this.expectClose(start);
      return { type: "look", behind: true, negate, body };
    }
    if (next === "<" || next === "'") {
      const close = next === "<" ? ">" : "'";
      const end = this.pattern.indexOf(close, this.index + 1);
      if (end < 0) throw new RegexSyntaxError("unterminated group name", this.index);
      const name = this.pattern.slice(this.index + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$|^\d+$/.test(name)) {
        // Balancing groups (?<a-b>...) are .NET-only and rare in provisioning; say so instead of misreading them.
        throw new RegexSyntaxError(`unsupported group name "${name}"`, this.index + 1);
      }
      this.index = end + 1;
      return this.finishGroup(inner, start, this.newGroup(name));
    }
    const options = /^([imnsx]*)(?:-([imnsx]*))?([:)])/.exec(this.pattern.slice(this.index));
    if (options) {
      this.index += options[0].length;
      const apply = (target: Flags): void => {
        for (const [letters, value] of [
          [options[1] ?? "", true],
          [options[2] ?? "", false],
        ] as const) {
          for (const letter of letters) {
            if (letter === "i") target.ignoreCase = value;
            if (letter === "m") target.multiline = value;
            if (letter === "s") target.singleline = value;
            if (letter === "n") target.explicitCapture = value;
            if (letter === "x") target.ignoreWhitespace = value;
          }
        }
      };
      if (options[3] === ")") {
        apply(flags);
        return null;
      }
      apply(inner);
      const body = this.parseAlternation(inner);
      this.expectClose(start);
      return { type: "group", capture: null, body };
    }
    throw new RegexSyntaxError("unrecognized grouping construct", start);
  }

  private newGroup(name: string | undefined): GroupInfo {
    const info: GroupInfo = { number: 0, name };
    if (name !== undefined && /^\d+$/.test(name)) {
      info.number = Number(name);
      info.name = undefined;
      this.groups.push({ info, named: false, order: this.groups.length });
      return info;
    }
    this.groups.push({ info, named: name !== undefined, order: this.groups.length });
    return info;
  }

  private finishGroup(flags: Flags, start: number, capture: GroupInfo | null): RegexNode {
    const body = this.parseAlternation(flags);
    this.expectClose(start);
    return { type: "group", capture, body };
  }

  private expectClose(start: number): void {
    if (this.peek() !== ")") throw new RegexSyntaxError("not enough closing parentheses", start);
    this.index++;
  }

  private parseEscape(flags: Flags, start: number): RegexNode {
    const char = this.peek();
    if (char === "") throw new RegexSyntaxError("illegal \\ at end of pattern", start);
    this.index++;
    switch (char) {
      case "A":
        return { type: "assert", kind: "start" };
      case "z":
        return { type: "assert", kind: "end" };
      case "Z":
        return { type: "assert", kind: "endOrFinalNewline" };
      case "b":
        return { type: "assert", kind: "wordBoundary" };
      case "B":
        return { type: "assert", kind: "notWordBoundary" };
      case "G":
        throw new RegexSyntaxError("\\G is not supported", start);
      case "k": {
        const match = /^(?:<([^>]+)>|'([^']+)')/.exec(this.pattern.slice(this.index));
        if (!match) throw new RegexSyntaxError("malformed \\k<...> named backreference", start);
        this.index += match[0].length;
        const name = match[1] ?? match[2] ?? "";
        const node: Extract<RegexNode, { type: "backref" }> = {
          type: "backref",
          group: /^\d+$/.test(name) ? { pendingNumber: Number(name) } : { pendingName: name },
          ignoreCase: flags.ignoreCase,
        };
        this.pendingBackrefs.push(node);
        return node;
      }
      default:
        break;
    }
    if (/[1-9]/.test(char)) {
      let digits = char;
      while (/[0-9]/.test(this.peek())) digits += this.pattern.charAt(this.index++);
      const node: Extract<RegexNode, { type: "backref" }> = {
        type: "backref",
        group: { pendingNumber: Number(digits) },
        ignoreCase: flags.ignoreCase,
      };
      this.pendingBackrefs.push(node);
      return node;
    }
    this.index--;
    const test = this.parseClassEscapeOrChar(start, false);
    return { type: "char", test: withCase(test, flags.ignoreCase) };
  }

  /** Reads an escape at this.index (just after "\"), shared by atoms and classes. */
  private parseClassEscapeOrChar(start: number, inClass: boolean): CharTest {
    const char = this.peek();
    this.index++;
    const literal =
      (code: number): CharTest =>
      (candidate) =>
        candidate === code;
    switch (char) {
      case "d":
        return isDigitChar;
      case "D":
        return not(isDigitChar);
      case "w":
        return isWordChar;
      case "W":
        return not(isWordChar);
      case "s":
        return isSpaceChar;
      case "S":
        return not(isSpaceChar);
      case "n":
        return literal(10);
      case "r":
        return literal(13);
      case "t":
        return literal(9);
      case "f":
        return literal(12);
      case "v":
        return literal(11);
      case "e":
        return literal(27);
      case "a":
        return literal(7);
      case "b":
        if (inClass) return literal(8);
        break;
      case "0": {
        let digits = "";
        while (digits.length < 2 && /[0-7]/.test(this.peek())) digits += this.pattern.charAt(this.index++);
        return literal(digits === "" ? 0 : parseInt(digits, 8));
      }
      case "x": {
        const hex = /^[0-9A-Fa-f]{2}/.exec(this.pattern.slice(this.index));
        if (!hex) throw new RegexSyntaxError("insufficient hexadecimal digits after \\x", start);
        this.index += 2;
        return literal(parseInt(hex[0], 16));
      }
      case "u": {
        const hex = /^[0-9A-Fa-f]{4}/.exec(this.pattern.slice(this.index));
        if (!hex) throw new RegexSyntaxError("insufficient hexadecimal digits after \\u", start);
        this.index += 4;
        return literal(parseInt(hex[0], 16));
      }
      case "c": {
        const control = this.peek().toUpperCase();
        if (!/[A-Z@[\\\]^_]/.test(control) || control === "")
          throw new RegexSyntaxError("missing control character", start);
        this.index++;
        return literal(control.charCodeAt(0) - 64);
      }
      case "p":
      case "P": {
        const match = /^\{([A-Za-z_]+)\}/.exec(this.pattern.slice(this.index));
        if (!match) throw new RegexSyntaxError("malformed \\p{X} character escape", start);
        this.index += match[0].length;
        const test = unicodePropertyTest(match[1] ?? "", start);
        return char === "p" ? test : not(test);
      }
      default:
        break;
    }
    if (isWordChar(char.charCodeAt(0))) {
      throw new RegexSyntaxError(`unrecognized escape sequence \\${char}`, start);
    }
    return literal(char.charCodeAt(0));
  }

  private parseClass(start: number): CharTest {
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.index++;
    }
    const tests: CharTest[] = [];
    let subtract: CharTest | null = null;
    let first = true;
    for (;;) {
      if (this.index >= this.pattern.length) throw new RegexSyntaxError("unterminated [] set", start);
      const char = this.peek();
      if (char === "]" && !first) {
        this.index++;
        break;
      }
      first = false;
      if (char === "-" && this.peek(1) === "[") {
        this.index += 2;
        subtract = this.parseClass(this.index - 1);
        if (this.peek() !== "]")
          throw new RegexSyntaxError(
            "a subtraction must be the last element in a character class",
            this.index,
          );
        this.index++;
        break;
      }
      const itemStart = this.index;
      const low = this.readClassCharacter(start);
      if (
        this.peek() === "-" &&
        this.peek(1) !== "]" &&
        this.peek(1) !== "" &&
        this.peek(1) !== "[" &&
        low.code !== null
      ) {
        this.index++;
        const high = this.readClassCharacter(start);
        if (high.code === null)
          throw new RegexSyntaxError("a range cannot end in a character class escape", itemStart);
        if (high.code < low.code) throw new RegexSyntaxError("[x-y] range in reverse order", itemStart);
        const from = low.code;
        const to = high.code;
        tests.push((code) => code >= from && code <= to);
      } else {
        tests.push(low.test);
      }
    }
    const base: CharTest = (code) => tests.some((test) => test(code));
    const withSubtraction: CharTest = subtract
      ? (
          (sub) => (code: number) =>
            base(code) && !sub(code)
        )(subtract)
      : base;
    return negate ? not(withSubtraction) : withSubtraction;
  }

  private readClassCharacter(start: number): { code: number | null; test: CharTest } {
    const char = this.peek();
    if (char === "\\") {
      this.index++;
      const escapeStart = this.index;
      const escaped = this.peek();
      const test = this.parseClassEscapeOrChar(start, true);
      const single = /[dDwWsSpP]/.test(escaped) ? null : this.singleCode(escapeStart);
      return { code: single, test };
    }
    this.index++;
    const code = char.charCodeAt(0);
    return { code, test: (candidate) => candidate === code };
  }

  /** The code point an escape just read stands for, recomputed from its text. */
  private singleCode(escapeStart: number): number {
    const text = this.pattern.slice(escapeStart, this.index);
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, e: 27, a: 7, b: 8 };
    const head = text.charAt(0);
    if (head in simple) return simple[head] as number;
    if (head === "x" || head === "u") return parseInt(text.slice(1), 16);
    if (head === "0") return text.length > 1 ? parseInt(text.slice(1), 8) : 0;
    if (head === "c") return text.toUpperCase().charCodeAt(1) - 64;
    return head.charCodeAt(0);
  }
}

export interface RegexGroupMatch {
  start: number;
  end: number;
  value: string;
}

export interface RegexMatch {
  index: number;
  end: number;
  value: string;
  /** Group by .NET number or name; undefined when the group did not participate. */
  group(key: number | string): RegexGroupMatch | undefined;
}

interface Budget {
  remaining: number;
}

export class GuardedRegex {
  private readonly groupCount: number;

  private constructor(
    readonly pattern: string,
    private readonly root: RegexNode,
    private readonly groups: GroupInfo[],
  ) {
    this.groupCount = groups.reduce((max, group) => Math.max(max, group.number), 0);
  }

  static compile(pattern: string, options: { ignoreCase?: boolean } = {}): GuardedRegex {
    if (pattern.length > MAX_REGEX_PATTERN_LENGTH) {
      throw new RegexSyntaxError(
        `the pattern is longer than ${MAX_REGEX_PATTERN_LENGTH} characters`,
        MAX_REGEX_PATTERN_LENGTH,
      );
    }
    const parser = new PatternParser(pattern);
    const { root, groups } = parser.parse({
      ignoreCase: options.ignoreCase ?? false,
      multiline: false,
      singleline: false,
      explicitCapture: false,
      ignoreWhitespace: false,
    });
    return new GuardedRegex(pattern, root, groups);
  }

  get groupNames(): string[] {
    return this.groups.flatMap((group) => (group.name === undefined ? [] : [group.name]));
  }

  hasGroup(key: number | string): boolean {
    return typeof key === "number"
      ? key === 0 || this.groups.some((group) => group.number === key)
      : this.groups.some((group) => group.name === key);
  }

  test(input: string, budget = DEFAULT_STEP_BUDGET): boolean {
    return this.exec(input, 0, { remaining: budget }) !== null;
  }

  matchAll(input: string, budget = DEFAULT_STEP_BUDGET): RegexMatch[] {
    const shared: Budget = { remaining: budget };
    const matches: RegexMatch[] = [];
    let start = 0;
    while (start <= input.length) {
      const match = this.exec(input, start, shared);
      if (!match) break;
      matches.push(match);
      start = match.end === match.index ? match.end + 1 : match.end;
    }
    return matches;
  }

  /**
   * Regex.Replace(input, replacement) with .NET substitutions. `checkLength` sees the output's length
   * after every match and may throw to stop a replacement that multiplies the input.
   */
  replace(
    input: string,
    replacement: string,
    budget = DEFAULT_STEP_BUDGET,
    checkLength?: (length: number) => void,
  ): string {
    let output = "";
    let last = 0;
    for (const match of this.matchAll(input, budget)) {
      const before = output.length + match.index - last;
      output +=
        input.slice(last, match.index) +
        this.substitute(replacement, match, input, checkLength && ((length) => checkLength(before + length)));
      checkLength?.(output.length);
      last = match.end;
    }
    return output + input.slice(last);
  }

  private substitute(
    replacement: string,
    match: RegexMatch,
    input: string,
    checkLength?: (length: number) => void,
  ): string {
    let output = "";
    for (let index = 0; index < replacement.length; index++) {
      // `$_` inserts the whole input: a replacement full of them multiplies it, so look after each piece.
      checkLength?.(output.length);
      const char = replacement.charAt(index);
      if (char !== "$" || index + 1 >= replacement.length) {
        output += char;
        continue;
      }
      const next = replacement.charAt(index + 1);
      if (next === "$") {
        output += "$";
        index++;
      } else if (next === "&") {
        output += match.value;
        index++;
      } else if (next === "`") {
        output += input.slice(0, match.index);
        index++;
      } else if (next === "'") {
        output += input.slice(match.end);
        index++;
      } else if (next === "_") {
        output += input;
        index++;
      } else if (next === "+") {
        const lastGroup = [...this.groups].sort((a, b) => b.number - a.number)[0];
        output += lastGroup ? (match.group(lastGroup.number)?.value ?? "") : "";
        index++;
      } else if (next === "{") {
        const close = replacement.indexOf("}", index + 2);
        const key = close < 0 ? "" : replacement.slice(index + 2, close);
        const groupKey = /^\d+$/.test(key) ? Number(key) : key;
        if (close < 0 || key === "" || !this.hasGroup(groupKey)) {
          output += char;
          continue;
        }
        output += match.group(groupKey)?.value ?? "";
        index = close;
      } else if (/[0-9]/.test(next)) {
        // .NET takes the longest run of digits that names an existing group.
        let digits = "";
        let chosen = "";
        for (
          let cursor = index + 1;
          cursor < replacement.length && /[0-9]/.test(replacement.charAt(cursor));
          cursor++
        ) {
          digits += replacement.charAt(cursor);
          if (this.hasGroup(Number(digits))) chosen = digits;
        }
        if (chosen === "") {
          output += char;
          continue;
        }
        output += match.group(Number(chosen))?.value ?? "";
        index += chosen.length;
      } else {
        output += char;
      }
    }
    return output;
  }

  /** The first match at or after `from`, or null. */
  exec(input: string, from: number, budget: Budget): RegexMatch | null {
    if (input.length > MAX_REGEX_INPUT_LENGTH) {
      throw new RegexTooComplexError(
        `the input is ${input.length} characters; regular expressions run on at most ${MAX_REGEX_INPUT_LENGTH}`,
      );
    }
    const matcher = new Matcher(input, this.groupCount, budget);
    for (let start = from; start <= input.length; start++) {
      const found = matcher.matchAt(this.root, start);
      if (found !== null) {
        const captures = matcher.captures.slice();
        const names = new Map(
          this.groups.flatMap((group) =>
            group.name === undefined ? [] : [[group.name, group.number] as const],
          ),
        );
        return {
          index: start,
          end: found,
          value: input.slice(start, found),
          group: (key) => {
            const number = typeof key === "number" ? key : names.get(key);
            if (number === undefined) return undefined;
            if (number === 0) return { start, end: found, value: input.slice(start, found) };
            const span = captures[number];
            return span ? { start: span[0], end: span[1], value: input.slice(span[0], span[1]) } : undefined;
          },
        };
      }
    }
    return null;
  }
}

class Matcher {
  captures: ([number, number] | undefined)[];

  constructor(
    private readonly input: string,
    groupCount: number,
    private readonly budget: Budget,
  ) {
    this.captures = new Array(groupCount + 1).fill(undefined);
  }

  matchAt(root: RegexNode, start: number): number | null {
    this.captures.fill(undefined);
    let end: number | null = null;
    try {
      const matched = this.match(root, start, (position) => {
        end = position;
        return true;
      });
      return matched ? end : null;
    } catch (error) {
      if (error instanceof RangeError) {
        throw new RegexTooComplexError("the regular expression backtracks too deeply on this input");
      }
      throw error;
    }
  }

  private tick(): void {
    if (--this.budget.remaining < 0) {
      throw new RegexTooComplexError(
        `the regular expression needs more than ${DEFAULT_STEP_BUDGET.toLocaleString("en-US")} steps on this input (catastrophic backtracking); simplify nested or adjacent quantifiers`,
      );
    }
  }

  private isWordAt(position: number): boolean {
    return position >= 0 && position < this.input.length && isWordChar(this.input.charCodeAt(position));
  }

  private match(node: RegexNode, position: number, next: (position: number) => boolean): boolean {
    this.tick();
    const input = this.input;
    switch (node.type) {
      case "empty":
        return next(position);
      case "char":
        return position < input.length && node.test(input.charCodeAt(position)) && next(position + 1);
      case "seq":
        return this.matchSequence(node.items, 0, position, next);
      case "alt":
        for (const option of node.options) {
          if (this.match(option, position, next)) return true;
        }
        return false;
      case "group": {
        const capture = node.capture;
        if (!capture) return this.match(node.body, position, next);
        return this.match(node.body, position, (end) => {
          const previous = this.captures[capture.number];
          this.captures[capture.number] = [position, end];
          if (next(end)) return true;
          this.captures[capture.number] = previous;
          return false;
        });
      }
      case "look": {
        const saved = this.captures.slice();
        let matched: boolean;
        if (node.behind) {
          matched = false;
          for (let start = position; start >= 0 && !matched; start--) {
            matched = this.match(node.body, start, (end) => end === position);
          }
        } else {
          matched = this.match(node.body, position, () => true);
        }
        if (matched === node.negate) {
          this.captures = saved;
          return false;
        }
        if (node.negate) this.captures = saved;
        if (next(position)) return true;
        this.captures = saved;
        return false;
      }
      case "atomic": {
        const saved = this.captures.slice();
        let end = -1;
        if (!this.match(node.body, position, (candidate) => ((end = candidate), true))) return false;
        if (next(end)) return true;
        this.captures = saved;
        return false;
      }
      case "repeat":
        return this.matchRepeat(node, 0, position, next);
      case "assert":
        return this.assertion(node.kind, position) && next(position);
      case "backref": {
        const group = node.group as GroupInfo;
        const span = this.captures[group.number];
        if (!span) return false;
        const text = input.slice(span[0], span[1]);
        const candidate = input.slice(position, position + text.length);
        const equal = node.ignoreCase ? candidate.toLowerCase() === text.toLowerCase() : candidate === text;
        return candidate.length === text.length && equal && next(position + text.length);
      }
    }
  }

  private matchSequence(
    items: RegexNode[],
    index: number,
    position: number,
    next: (position: number) => boolean,
  ): boolean {
    const item = items[index];
    if (item === undefined) return next(position);
    return this.match(item, position, (after) => this.matchSequence(items, index + 1, after, next));
  }

  private matchRepeat(
    node: Extract<RegexNode, { type: "repeat" }>,
    count: number,
    position: number,
    next: (position: number) => boolean,
  ): boolean {
    this.tick();
    if (node.body.type === "char") return this.matchCharRepeat(node, node.body.test, position, next);
    if (count < node.min) {
      return this.match(node.body, position, (after) => this.matchRepeat(node, count + 1, after, next));
    }
    // An iteration that consumed nothing would repeat forever; .NET stops the loop there too.
    const iterate = (): boolean =>
      count < node.max &&
      this.match(
        node.body,
        position,
        (after) => after !== position && this.matchRepeat(node, count + 1, after, next),
      );
    if (node.greedy) return iterate() || next(position);
    return next(position) || iterate();
  }

  /**
   * `.*`, `\d+`, `[a-z]{2,5}`...: a repeated single character needs no recursion per iteration, which keeps
   * the stack shallow on long inputs; each candidate length still costs one step of the budget.
   */
  private matchCharRepeat(
    node: Extract<RegexNode, { type: "repeat" }>,
    test: CharTest,
    position: number,
    next: (position: number) => boolean,
  ): boolean {
    const input = this.input;
    let available = 0;
    while (
      available < node.max &&
      position + available < input.length &&
      test(input.charCodeAt(position + available))
    ) {
      available++;
    }
    if (available < node.min) return false;
    if (node.greedy) {
      for (let count = available; count >= node.min; count--) {
        this.tick();
        if (next(position + count)) return true;
      }
      return false;
    }
    for (let count = node.min; count <= available; count++) {
      this.tick();
      if (next(position + count)) return true;
    }
    return false;
  }

  private assertion(kind: AssertKind, position: number): boolean {
    const input = this.input;
    switch (kind) {
      case "start":
        return position === 0;
      case "end":
        return position === input.length;
      case "endOrFinalNewline":
        return (
          position === input.length || (position === input.length - 1 && input.charCodeAt(position) === 10)
        );
      case "lineStart":
        return position === 0 || input.charCodeAt(position - 1) === 10;
      case "lineEnd":
        return position === input.length || input.charCodeAt(position) === 10;
      case "wordBoundary":
        return this.isWordAt(position - 1) !== this.isWordAt(position);
      case "notWordBoundary":
        return this.isWordAt(position - 1) === this.isWordAt(position);
    }
  }
}
