"use client";

import { type FormEvent, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, TextInput } from "@/components/ui/field";
import type { ExpressionProblem, TAttributeMapping } from "@/lib/mapping";
import { ExpressionSyntaxError } from "@/lib/mapping/errors";
import { parseExpression } from "@/lib/mapping/parser";
import { MAPPING_TYPES, type ObjectKey, TARGET_ATTRIBUTES, previewExpressionOf } from "./catalog";
import { ExpressionEditor, FunctionReference } from "./expression-editor";
import { PreviewResult, PreviewUserPicker } from "./preview-panel";
import type { DirectoryUser } from "@/lib/client/use-directory";
import { SourceAttributePicker } from "./source-attribute-picker";
import { useDebouncedValue, usePreview } from "./use-mappings";

const SELECT =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";

/** Carries the value across a type change the way an admin means it: jobTitle ⇄ [jobTitle]. */
function convertSource(
  source: string,
  from: TAttributeMapping["type"],
  to: TAttributeMapping["type"],
): string {
  if (to === "None") return "";
  if (from === to) return source;
  if (from === "Direct" && to === "Expression") return source.trim() ? `[${source.trim()}]` : "";
  if (from === "Expression" && to === "Direct")
    return /^\s*\[([^\]"[]+)\]\s*$/.exec(source)?.[1]?.trim() ?? "";
  if (from === "Constant" && to === "Expression") return previewExpressionOf({ type: "Constant", source });
  return from === "None" ? "" : source;
}

/** The parser's verdict on an expression, in the shape the editor shows; null when it parses. */
function syntaxProblemOf(expression: string): ExpressionProblem | null {
  try {
    parseExpression(expression);
    return null;
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    return {
      kind: "syntax",
      message: error.reason,
      position: error.position,
      expected: [...error.expected],
    };
  }
}

export function newAttributeMapping(): TAttributeMapping {
  return {
    type: "Direct",
    source: "",
    target: "",
    defaultValue: null,
    apply: "Always",
    matchingPriority: 0,
    caseExact: false,
    flowBehavior: "FlowWhenChanged",
  };
}

/**
 * Entra's "Edit attribute" blade as a dialog. OK puts the change in the draft list; nothing is stored
 * until the page's Save, exactly as in the portal.
 */
export function AttributeDialog({
  connectionId,
  objectKey,
  initial,
  isNew,
  nextPrecedence,
  serverErrors,
  previewUser,
  onPreviewUserChange,
  onCancel,
  onApply,
}: {
  connectionId: string;
  objectKey: ObjectKey;
  initial: TAttributeMapping;
  isNew: boolean;
  nextPrecedence: number;
  /** Errors from the last save for this row, by field name (source, target, matchingPriority…). */
  serverErrors: Record<string, string>;
  previewUser: DirectoryUser | null;
  onPreviewUserChange: (user: DirectoryUser | null) => void;
  onCancel: () => void;
  onApply: (mapping: TAttributeMapping) => void;
}) {
  const [mapping, setMapping] = useState<TAttributeMapping>(initial);
  const [precedenceText, setPrecedenceText] = useState(
    String(initial.matchingPriority > 0 ? initial.matchingPriority : nextPrecedence),
  );
  const [localError, setLocalError] = useState<string | null>(null);
  /** The syntax error OK found, for the expression it was found in. */
  const [refused, setRefused] = useState<{ source: string; problem: ExpressionProblem } | null>(null);
  const typeRef = useRef<HTMLSelectElement>(null);
  const update = (patch: Partial<TAttributeMapping>) => setMapping((current) => ({ ...current, ...patch }));
  const isMatching = mapping.matchingPriority > 0;

  const expression = previewExpressionOf(mapping);
  const debounced = useDebouncedValue(expression, 300);
  // Values need a directory user, so only user mappings preview values; group expressions are still
  // parsed (against an empty object) so syntax errors show their position.
  const canPreview = objectKey === "users" && mapping.type !== "None";
  const shouldEvaluate = canPreview
    ? Boolean(previewUser) || mapping.type === "Expression"
    : mapping.type === "Expression";
  const preview = usePreview(
    connectionId,
    shouldEvaluate ? debounced : "",
    canPreview ? (previewUser?.id ?? null) : null,
  );
  const result = preview.data?.result;
  const isCurrent = debounced === expression;
  // One problem at a time: the live preview's, or else the one OK found before the preview caught up.
  const expressionProblem =
    (result && !result.ok && isCurrent ? result.error : null) ??
    (refused && refused.source === mapping.source && mapping.type === "Expression" ? refused.problem : null);
  const savedSourceError = serverErrors.source;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!mapping.target.trim()) {
      setLocalError("Enter the target attribute.");
      return;
    }
    if (mapping.type === "Direct" && !mapping.source.trim()) {
      setLocalError("Enter the source attribute.");
      return;
    }
    if (mapping.type === "Expression") {
      const problem = syntaxProblemOf(mapping.source);
      if (problem) {
        // The problem itself (with its position) shows under the editor; this only says why OK did nothing.
        setRefused({ source: mapping.source, problem });
        setLocalError("Fix the syntax error in the expression, or Cancel to keep the mapping as it was.");
        document.getElementById("mapping-expression")?.focus();
        return;
      }
    }
    setLocalError(null);
    onApply({
      ...mapping,
      target: mapping.target.trim(),
      source: mapping.type === "Direct" ? mapping.source.trim() : mapping.source,
    });
  };

  const title = isNew ? "Add attribute mapping" : `Edit attribute mapping: ${initial.target}`;
  return (
    <Dialog
      open
      onClose={onCancel}
      title={title}
      size="xl"
      initialFocusRef={typeRef}
      description="OK updates the list below; select Save on the Mappings page to apply it."
      footer={
        <>
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" form="attribute-mapping-form">
            OK
          </Button>
        </>
      }
    >
      <form id="attribute-mapping-form" onSubmit={onSubmit} noValidate className="grid gap-6 lg:grid-cols-2">
        <div className="space-y-4">
          <Field id="mapping-type" label="Mapping type">
            <select
              id="mapping-type"
              ref={typeRef}
              className={SELECT}
              value={mapping.type}
              onChange={(event) => {
                const type = event.target.value as TAttributeMapping["type"];
                update({
                  type,
                  source: convertSource(mapping.source, mapping.type, type),
                  ...(type === "None" ? { matchingPriority: 0 } : {}),
                });
              }}
            >
              {MAPPING_TYPES.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </Field>

          {mapping.type === "Direct" && (
            <Field id="mapping-source" label="Source attribute" error={savedSourceError}>
              <SourceAttributePicker
                id="mapping-source"
                objectKey={objectKey}
                value={mapping.source}
                onChange={(source) => update({ source })}
                onUseAsExpression={(source) => update({ type: "Expression", source })}
                invalid={Boolean(savedSourceError)}
              />
            </Field>
          )}

          {mapping.type === "Constant" && (
            <Field id="mapping-constant" label="Constant value" error={savedSourceError}>
              <TextInput
                id="mapping-constant"
                value={mapping.source}
                onChange={(event) => update({ source: event.target.value })}
              />
            </Field>
          )}

          {mapping.type === "Expression" && (
            <div className="space-y-1">
              <label htmlFor="mapping-expression" className="block text-sm font-medium">
                Expression
              </label>
              <ExpressionEditor
                id="mapping-expression"
                value={mapping.source}
                onChange={(source) => {
                  update({ source });
                  setLocalError(null);
                }}
                problem={expressionProblem}
                describedBy="mapping-expression-hint"
              />
              {savedSourceError && !expressionProblem && (
                <p className="text-sm text-red-700 dark:text-red-400" role="alert">
                  Not saved: {savedSourceError}
                </p>
              )}
              <p id="mapping-expression-hint" className="text-xs text-slate-600 dark:text-slate-400">
                Attributes in [brackets], text in &quot;double quotes&quot; (escape &quot; and \ with \).
                Function names are case-sensitive.
              </p>
              <FunctionReference />
            </div>
          )}

          {mapping.type !== "Constant" && (
            <Field
              id="mapping-default"
              label="Default value if null (optional)"
              hint="Sent when the source is NULL, on creation only."
              error={serverErrors.defaultValue}
            >
              <TextInput
                id="mapping-default"
                value={mapping.defaultValue ?? ""}
                onChange={(event) =>
                  update({ defaultValue: event.target.value === "" ? null : event.target.value })
                }
              />
            </Field>
          )}

          <Field id="mapping-target" label="Target attribute" error={serverErrors.target}>
            <TextInput
              id="mapping-target"
              list={`target-attributes-${objectKey}`}
              value={mapping.target}
              onChange={(event) => update({ target: event.target.value })}
              invalid={Boolean(serverErrors.target)}
              autoComplete="off"
              className="font-mono"
            />
            <datalist id={`target-attributes-${objectKey}`}>
              {TARGET_ATTRIBUTES[objectKey].map((name) => (
                <option key={name} value={name} />
              ))}
            </datalist>
          </Field>

          <div className="grid gap-4 sm:grid-cols-2">
            <div className="flex items-center gap-2 self-end pb-2">
              <input
                id="mapping-matching"
                type="checkbox"
                checked={isMatching}
                disabled={mapping.type === "None"}
                onChange={(event) =>
                  update({
                    matchingPriority: event.target.checked ? Math.max(1, Number(precedenceText) || 1) : 0,
                  })
                }
              />
              <label htmlFor="mapping-matching" className="text-sm">
                Match objects using this attribute
              </label>
            </div>
            <Field id="mapping-precedence" label="Matching precedence" error={serverErrors.matchingPriority}>
              <TextInput
                id="mapping-precedence"
                type="number"
                min={1}
                disabled={!isMatching}
                value={precedenceText}
                onChange={(event) => {
                  setPrecedenceText(event.target.value);
                  const parsed = Number(event.target.value);
                  if (Number.isInteger(parsed) && parsed >= 1) update({ matchingPriority: parsed });
                }}
                invalid={Boolean(serverErrors.matchingPriority)}
              />
            </Field>
          </div>

          <Field id="mapping-apply" label="Apply this mapping" error={serverErrors.apply}>
            <select
              id="mapping-apply"
              className={SELECT}
              value={mapping.apply}
              onChange={(event) => update({ apply: event.target.value as TAttributeMapping["apply"] })}
            >
              <option value="Always">Always</option>
              <option value="OnlyDuringCreation">Only during object creation</option>
            </select>
          </Field>
          {localError && (
            <p className="text-sm text-red-700 dark:text-red-400" role="alert">
              {localError}
            </p>
          )}
        </div>

        <section
          aria-labelledby="preview-heading"
          className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800"
        >
          <h3 id="preview-heading" className="text-sm font-semibold">
            Live preview
          </h3>
          {canPreview ? (
            <>
              <PreviewUserPicker
                connectionId={connectionId}
                selected={previewUser}
                onSelect={onPreviewUserChange}
              />
              {previewUser && (
                <p className="text-sm">
                  Previewing with <strong>{previewUser.displayName ?? previewUser.userPrincipalName}</strong>
                </p>
              )}
              <PreviewResult
                preview={preview.data}
                hasUser={Boolean(previewUser)}
                isUpdating={preview.isFetching || !isCurrent}
                error={preview.error}
              />
            </>
          ) : (
            <p className="text-sm text-slate-600 dark:text-slate-400">
              {mapping.type === "None"
                ? "A mapping of type None sends nothing; only its default value fills an empty target on creation."
                : "Preview evaluates user mappings against a directory user."}
            </p>
          )}
        </section>
      </form>
    </Dialog>
  );
}
