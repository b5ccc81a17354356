import type { ReactNode } from "react";
import { cn } from "@/components/ui/cn";

export type TokenKind =
  "function" | "attribute" | "string" | "number" | "name" | "punctuation" | "operator" | "space" | "other";

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

/**
 * Splits an expression into coloured runs. It never fails: the editor renders half-typed text on every
 * keystroke, so an unterminated string or attribute simply runs to the end (the parser, server-side,
 * is the one that says what is wrong and where).
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, start: index, end });
    index = end;
  };
  while (index < text.length) {
    const char = text.charAt(index);
    if (/\s/.test(char)) {
      let end = index + 1;
      while (end < text.length && /\s/.test(text.charAt(end))) end++;
      push("space", end);
    } else if (char === '"') {
      let end = index + 1;
      while (end < text.length && text.charAt(end) !== '"') {
        // Mirrors the parser: only \" and \\ are escapes, so "a\"b" stays one string.
        end += text.charAt(end) === "\\" && /["\\]/.test(text.charAt(end + 1)) ? 2 : 1;
      }
      push("string", Math.min(end + 1, text.length));
    } else if (char === "[") {
      const close = text.indexOf("]", index + 1);
      const newline = text.slice(index + 1).search(/[\r\n]/);
      const stop = close < 0 ? text.length : close + 1;
      push("attribute", newline >= 0 && index + 1 + newline < stop ? index + 1 + newline : stop);
    } else if (/[A-Za-z_]/.test(char)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(index))?.[0] ?? char;
      const after = text.slice(index + name.length).match(/^\s*/)?.[0].length ?? 0;
      push(text.charAt(index + name.length + after) === "(" ? "function" : "name", index + name.length);
    } else if (/[0-9]/.test(char) || (char === "&" && /[Hh]/.test(text.charAt(index + 1)))) {
      const match = /^(&[Hh][0-9A-Fa-f]*|\d+(\.\d*)?([eE][+-]?\d+)?)/.exec(text.slice(index));
      push("number", index + (match?.[0].length ?? 1));
    } else if (char === "(" || char === ")" || char === ",") {
      push("punctuation", index + 1);
    } else if (/[<>=]/.test(char)) {
      const two = text.slice(index, index + 2);
      push("operator", index + (["<>", "<=", ">="].includes(two) ? 2 : 1));
    } else {
      push("other", index + 1);
    }
  }
  return tokens;
}

const TOKEN_CLASSES: Record<TokenKind, string> = {
  function: "text-blue-700 dark:text-sky-300 font-semibold",
  attribute: "text-emerald-700 dark:text-emerald-300",
  string: "text-amber-700 dark:text-amber-300",
  number: "text-fuchsia-700 dark:text-fuchsia-300",
  name: "text-slate-900 dark:text-slate-100",
  punctuation: "text-slate-500 dark:text-slate-400",
  operator: "text-rose-700 dark:text-rose-300",
  space: "",
  other: "text-slate-900 dark:text-slate-100",
};

const ERROR_CLASSES =
  "underline decoration-red-600 decoration-wavy decoration-2 underline-offset-4 bg-red-100 dark:bg-red-950 dark:decoration-red-400";

/**
 * React elements, never an HTML string: user text only ever reaches the DOM as text nodes. The range
 * [errorStart, errorEnd) is underlined; an error at the very end (a missing ")") gets a marked blank so
 * the position is still visible.
 */
export function renderHighlighted(
  text: string,
  error?: { start: number; end: number } | null,
  isKnownFunction: (name: string) => boolean = () => true,
): ReactNode[] {
  const nodes: ReactNode[] = [];
  const errorStart = error ? Math.min(error.start, text.length) : -1;
  const errorEnd = error ? Math.max(error.end, errorStart + 1) : -1;
  for (const token of tokenize(text)) {
    const base =
      token.kind === "function" && !isKnownFunction(text.slice(token.start, token.end))
        ? "text-slate-900 dark:text-slate-100"
        : TOKEN_CLASSES[token.kind];
    const cuts = [token.start, token.end];
    if (errorStart > token.start && errorStart < token.end) cuts.push(errorStart);
    if (errorEnd > token.start && errorEnd < token.end) cuts.push(errorEnd);
    cuts.sort((a, b) => a - b);
    for (let i = 0; i < cuts.length - 1; i++) {
      const from = cuts[i]!;
      const to = cuts[i + 1]!;
      if (from === to) continue;
      const inError = error != null && from >= errorStart && from < errorEnd;
      nodes.push(
        <span
          key={`${from}-${to}`}
          className={cn(base, inError && ERROR_CLASSES)}
          data-error={inError || undefined}
        >
          {text.slice(from, to)}
        </span>,
      );
    }
  }
  if (error && errorStart >= text.length) {
    nodes.push(
      <span key="end-marker" className={ERROR_CLASSES} data-error>
        {" "}
      </span>,
    );
  }
  return nodes;
}
