"use client";

import { Button } from "@/components/ui/button";
import { TextInput } from "@/components/ui/field";
import {
  SCOPE_OPERATORS,
  UNARY_SCOPE_OPERATORS,
  type TScopeClause,
  type TScopeFilter,
} from "@/lib/scoping/model";
import { GHOST_DISABLED, INPUT_DISABLED, type ObjectKey, SOURCE_ATTRIBUTES } from "./catalog";

const SELECT =
  "block w-full rounded-md border border-slate-300 bg-white px-2 py-2 text-sm disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-600 dark:border-slate-700 dark:bg-slate-900 dark:disabled:bg-slate-800";

const OPERATOR_HINTS: Partial<Record<string, string>> = {
  EQUALS: "case-sensitive",
  Includes: "case-sensitive contains",
  "&": "attribute value is contained in the value",
  "!&": "attribute value is not contained in the value",
  Greater_Than: "integers only",
  Greater_Than_OR_EQUALS: "integers only",
  Less_Than: "integers only",
  Less_Than_OR_EQUALS: "integers only",
};

function emptyClause(): TScopeClause {
  return { sourceOperandName: "", operatorName: "EQUALS", targetOperand: { values: [""] } };
}

/**
 * Entra's scoping filter editor: each filter is clauses that must all hold (AND); an object is in scope
 * when any filter holds (OR). No filter means every assigned object is in scope.
 */
export function ScopeEditor({
  objectKey,
  scope,
  onChange,
  canWrite,
  errorAt,
}: {
  objectKey: ObjectKey;
  scope: TScopeFilter | null;
  onChange: (scope: TScopeFilter | null) => void;
  canWrite: boolean;
  /** The save error at a path under this object's scope ("groups.0.clauses.1"), or below it when nested. */
  errorAt: (path: string, nested?: boolean) => string | undefined;
}) {
  const groups = scope?.groups ?? [];
  const noun = objectKey === "users" ? "users" : "groups";
  const setGroups = (next: TScopeFilter["groups"]) => onChange(next.length > 0 ? { groups: next } : null);
  const updateClause = (groupIndex: number, clauseIndex: number, patch: Partial<TScopeClause>) =>
    setGroups(
      groups.map((group, g) =>
        g !== groupIndex
          ? group
          : {
              ...group,
              clauses: group.clauses.map((clause, c) =>
                c === clauseIndex ? { ...clause, ...patch } : clause,
              ),
            },
      ),
    );
  const listId = `scope-attributes-${objectKey}`;
  return (
    <section aria-labelledby={`scope-heading-${objectKey}`} className="space-y-3">
      <div>
        <h3 id={`scope-heading-${objectKey}`} className="text-sm font-semibold">
          Source object scope
        </h3>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          {groups.length === 0
            ? `All ${noun} in the provisioning scope are synchronized (no scoping filter).`
            : `A ${noun.slice(0, -1)} is in scope when it meets every clause of at least one filter. Filters return false for NULL or empty values.`}
        </p>
      </div>
      <datalist id={listId}>
        {SOURCE_ATTRIBUTES[objectKey].map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      {groups.map((group, groupIndex) => {
        const groupError = errorAt(`groups.${groupIndex}`);
        const prefix = `scope-${objectKey}-${groupIndex}`;
        return (
          <fieldset
            key={groupIndex}
            className="space-y-3 rounded-lg border border-slate-200 p-3 dark:border-slate-800"
            aria-describedby={groupError ? `${prefix}-error` : undefined}
          >
            <legend className="px-1 text-sm font-medium">
              Scoping filter {groupIndex + 1}
              {groupIndex > 0 && (
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">(OR)</span>
              )}
            </legend>
            <div className="flex flex-wrap items-end gap-2">
              <div className="min-w-48 flex-1">
                <label htmlFor={`${prefix}-name`} className="block text-xs font-medium">
                  Filter name (optional)
                </label>
                <TextInput
                  className={INPUT_DISABLED}
                  id={`${prefix}-name`}
                  value={group.name}
                  disabled={!canWrite}
                  onChange={(event) =>
                    setGroups(
                      groups.map((g, i) => (i === groupIndex ? { ...g, name: event.target.value } : g)),
                    )
                  }
                />
              </div>
              <Button
                variant="ghost"
                className={GHOST_DISABLED}
                disabled={!canWrite}
                onClick={() => setGroups(groups.filter((_, i) => i !== groupIndex))}
              >
                Remove filter {groupIndex + 1}
              </Button>
            </div>
            {groupError && (
              <p id={`${prefix}-error`} className="text-sm text-red-700 dark:text-red-400" role="alert">
                {groupError}
              </p>
            )}
            <ol className="space-y-2">
              {group.clauses.map((clause, clauseIndex) => {
                const clauseId = `${prefix}-${clauseIndex}`;
                const error = errorAt(`groups.${groupIndex}.clauses.${clauseIndex}`, true);
                const isUnary = UNARY_SCOPE_OPERATORS.has(clause.operatorName);
                const values = clause.targetOperand.values.length > 0 ? clause.targetOperand.values : [""];
                const label = `filter ${groupIndex + 1}, clause ${clauseIndex + 1}`;
                return (
                  <li key={clauseIndex} className="rounded-md bg-slate-50 p-2 dark:bg-slate-950">
                    <div className="grid items-end gap-2 sm:grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)_auto]">
                      <div>
                        <label htmlFor={`${clauseId}-attribute`} className="block text-xs font-medium">
                          Attribute
                          {clauseIndex > 0 && (
                            <span className="ml-1 text-slate-500 dark:text-slate-400">(AND)</span>
                          )}
                        </label>
                        <TextInput
                          className={INPUT_DISABLED}
                          id={`${clauseId}-attribute`}
                          aria-label={`Attribute, ${label}`}
                          list={listId}
                          autoComplete="off"
                          value={clause.sourceOperandName}
                          disabled={!canWrite}
                          invalid={Boolean(error)}
                          aria-describedby={error ? `${clauseId}-error` : undefined}
                          onChange={(event) =>
                            updateClause(groupIndex, clauseIndex, { sourceOperandName: event.target.value })
                          }
                        />
                      </div>
                      <div>
                        <label htmlFor={`${clauseId}-operator`} className="block text-xs font-medium">
                          Operator
                        </label>
                        <select
                          id={`${clauseId}-operator`}
                          aria-label={`Operator, ${label}`}
                          className={SELECT}
                          value={clause.operatorName}
                          disabled={!canWrite}
                          onChange={(event) =>
                            updateClause(groupIndex, clauseIndex, {
                              operatorName: event.target.value,
                              targetOperand: {
                                values: UNARY_SCOPE_OPERATORS.has(event.target.value) ? [] : values,
                              },
                            })
                          }
                        >
                          {/* An imported operator we do not know stays visible so validation can name it. */}
                          {!(SCOPE_OPERATORS as readonly string[]).includes(clause.operatorName) && (
                            <option value={clause.operatorName}>{clause.operatorName}</option>
                          )}
                          {SCOPE_OPERATORS.map((operator) => (
                            <option key={operator} value={operator}>
                              {operator}
                              {OPERATOR_HINTS[operator] ? ` (${OPERATOR_HINTS[operator]})` : ""}
                            </option>
                          ))}
                        </select>
                      </div>
                      <div className="space-y-1">
                        {isUnary ? (
                          <p className="pb-2 text-xs text-slate-500 dark:text-slate-400">No value needed</p>
                        ) : (
                          values.map((value, valueIndex) => (
                            <div key={valueIndex}>
                              <label
                                htmlFor={`${clauseId}-value-${valueIndex}`}
                                className="block text-xs font-medium"
                              >
                                {values.length > 1 ? `Value ${valueIndex + 1}` : "Value"}
                              </label>
                              <TextInput
                                className={INPUT_DISABLED}
                                id={`${clauseId}-value-${valueIndex}`}
                                aria-label={`${values.length > 1 ? `Value ${valueIndex + 1}` : "Value"}, ${label}`}
                                value={value}
                                disabled={!canWrite}
                                invalid={Boolean(error)}
                                onChange={(event) =>
                                  updateClause(groupIndex, clauseIndex, {
                                    targetOperand: {
                                      values: values.map((v, i) =>
                                        i === valueIndex ? event.target.value : v,
                                      ),
                                    },
                                  })
                                }
                              />
                            </div>
                          ))
                        )}
                      </div>
                      <Button
                        variant="ghost"
                        className={GHOST_DISABLED}
                        disabled={!canWrite}
                        aria-label={`Remove ${label}`}
                        onClick={() =>
                          setGroups(
                            groups.map((g, i) =>
                              i === groupIndex
                                ? { ...g, clauses: g.clauses.filter((_, c) => c !== clauseIndex) }
                                : g,
                            ),
                          )
                        }
                      >
                        Remove
                      </Button>
                    </div>
                    {error && (
                      <p
                        id={`${clauseId}-error`}
                        className="mt-1 text-sm text-red-700 dark:text-red-400"
                        role="alert"
                      >
                        {error}
                      </p>
                    )}
                  </li>
                );
              })}
            </ol>
            <Button
              variant="secondary"
              disabled={!canWrite}
              onClick={() =>
                setGroups(
                  groups.map((g, i) =>
                    i === groupIndex ? { ...g, clauses: [...g.clauses, emptyClause()] } : g,
                  ),
                )
              }
            >
              Add clause to filter {groupIndex + 1}
            </Button>
          </fieldset>
        );
      })}
      <Button
        variant="secondary"
        disabled={!canWrite}
        onClick={() => setGroups([...groups, { name: "", clauses: [emptyClause()] }])}
      >
        Add scoping filter
      </Button>
    </section>
  );
}
