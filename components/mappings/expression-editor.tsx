"use client";

import { useRef } from "react";
import { cn } from "@/components/ui/cn";
import { FUNCTION_REGISTRY, signatureOf } from "@/lib/mapping/functions";
import type { ExpressionProblem } from "@/lib/mapping";
import { renderHighlighted } from "./expression-highlight";

const isKnownFunction = (name: string) => FUNCTION_REGISTRY.has(name);

/** "line 1, column 24: Unclosed ( … (expected ")")": the position in words, as the parser reports it. */
export function describeProblemPosition(problem: ExpressionProblem): string {
  const where = problem.position ? `line ${problem.position.line}, column ${problem.position.column}: ` : "";
  const expected =
    problem.expected && problem.expected.length > 0 ? ` (expected ${problem.expected.join(" or ")})` : "";
  return `${where}${problem.message}${expected}`;
}

/**
 * A plain textarea (so typing, selection, undo and screen readers behave natively) laid exactly over
 * a highlighted copy of the same text. The textarea's own glyphs are transparent; only its caret and
 * selection show, so both layers must share font, padding, border and wrapping to stay aligned.
 */
export function ExpressionEditor({
  id,
  value,
  onChange,
  problem,
  disabled,
  describedBy,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  problem?: ExpressionProblem | null;
  disabled?: boolean;
  describedBy?: string;
}) {
  const mirrorRef = useRef<HTMLPreElement>(null);
  const range = problem?.position
    ? { start: problem.position.offset, end: problem.end?.offset ?? problem.position.offset + 1 }
    : null;
  const layer =
    "m-0 px-3 py-2 font-mono text-sm leading-6 whitespace-pre-wrap break-words [overflow-wrap:anywhere] [scrollbar-gutter:stable] border";
  const problemId = `${id}-problem`;
  return (
    <div>
      <div className="relative rounded-md bg-white dark:bg-slate-950">
        <pre
          ref={mirrorRef}
          aria-hidden="true"
          className={cn(layer, "pointer-events-none absolute inset-0 overflow-hidden border-transparent")}
        >
          {renderHighlighted(value, range, isKnownFunction)}
          {/* A trailing newline in a textarea opens a line the mirror would otherwise not have. */}
          {"\n "}
        </pre>
        <textarea
          id={id}
          value={value}
          disabled={disabled}
          rows={4}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          aria-invalid={problem?.kind === "syntax" || undefined}
          aria-describedby={[problem ? problemId : null, describedBy].filter(Boolean).join(" ") || undefined}
          onChange={(event) => onChange(event.target.value)}
          onScroll={(event) => {
            if (mirrorRef.current) mirrorRef.current.scrollTop = event.currentTarget.scrollTop;
          }}
          className={cn(
            layer,
            "relative block w-full resize-y overflow-y-auto rounded-md bg-transparent text-transparent caret-slate-900 selection:bg-blue-200/60 focus:border-blue-600 focus:ring-1 focus:ring-blue-600 focus:outline-none disabled:cursor-not-allowed dark:caret-white dark:selection:bg-blue-700/50",
            problem?.kind === "syntax" ? "border-red-600" : "border-slate-300 dark:border-slate-700",
          )}
        />
      </div>
      <div id={problemId} aria-live="polite" className="mt-1">
        {problem && <ProblemCaret text={value} problem={problem} />}
      </div>
    </div>
  );
}

function ProblemCaret({ text, problem }: { text: string; problem: ExpressionProblem }) {
  const line = problem.position ? (text.split("\n")[problem.position.line - 1] ?? "") : null;
  const column = problem.position?.column ?? 1;
  // Keep the excerpt short on narrow screens: show up to 60 characters before the caret.
  const from = Math.max(0, column - 1 - 60);
  return (
    <div
      className={cn(
        "rounded-md border px-3 py-2 text-sm",
        problem.kind === "syntax"
          ? "border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100"
          : "border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-100",
      )}
    >
      <p className="font-medium" data-testid="expression-problem">
        {problem.kind === "syntax" ? "Syntax error" : "Evaluation failed for this user"}:{" "}
        {describeProblemPosition(problem)}
      </p>
      {line !== null && (
        <pre className="mt-1 overflow-x-auto font-mono text-xs leading-5" aria-hidden="true">
          {line.slice(from, from + 120)}
          {"\n"}
          {" ".repeat(column - 1 - from)}
          <span className="font-bold text-red-700 dark:text-red-400">^</span>
        </pre>
      )}
    </div>
  );
}

/** The function list with signatures, so nobody has to leave the dialog to recall Entra's argument order. */
export function FunctionReference() {
  return (
    <details className="text-sm">
      <summary className="cursor-pointer text-blue-700 dark:text-blue-400">
        Functions ({FUNCTION_REGISTRY.size})
      </summary>
      <ul className="mt-2 max-h-48 space-y-1 overflow-y-auto rounded-md border border-slate-200 p-2 dark:border-slate-800">
        {[...FUNCTION_REGISTRY.values()].map((spec) => (
          <li key={spec.name}>
            <code className="font-mono text-xs text-blue-700 dark:text-sky-300">{signatureOf(spec)}</code>
            <span className="block text-xs text-slate-600 dark:text-slate-400">{spec.summary}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
