"use client";

import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import type { TObjectMapping } from "@/lib/mapping";
import { AttributeTable } from "./attribute-table";
import { type ObjectKey, READ_ONLY_REASON } from "./catalog";
import { ScopeEditor } from "./scope-editor";

type Actions = TObjectMapping["actions"];

const ACTION_LABELS: { key: keyof Actions; label: string }[] = [
  { key: "create", label: "Create" },
  { key: "update", label: "Update" },
  { key: "delete", label: "Delete" },
];

/** One object mapping (users or groups): Entra's per-object page in a card. */
export function ObjectMappingSection({
  objectKey,
  mapping,
  canWrite,
  onChange,
  errorAt,
  errorsUnder,
  onEdit,
  onAdd,
  onDelete,
}: {
  objectKey: ObjectKey;
  mapping: TObjectMapping;
  canWrite: boolean;
  onChange: (mapping: TObjectMapping) => void;
  /** The save error at this path under the object ("enabled"), or below it when nested. */
  errorAt: (path: string, nested?: boolean) => string | undefined;
  /** Save errors below a path, with the rest of the path as `field`. */
  errorsUnder: (path: string) => { field: string; message: string }[];
  onEdit: (index: number) => void;
  onAdd: () => void;
  onDelete: (index: number) => void;
}) {
  const isUsers = objectKey === "users";
  const enabledError = errorAt("enabled");
  const listError = errorAt("attributeMappings");
  return (
    <Card
      title={mapping.name}
      description={`Source object: ${mapping.sourceObjectName} (Microsoft Entra ID) → target object: ${mapping.targetObjectName} (Dialpad)`}
    >
      <div className="space-y-6">
        <div className="flex flex-wrap gap-x-10 gap-y-4">
          <div>
            <div className="flex items-center gap-2">
              <input
                id={`${objectKey}-enabled`}
                type="checkbox"
                checked={mapping.enabled}
                // Entra lets an admin turn the Groups mapping off but never the Users mapping.
                disabled={!canWrite || isUsers}
                aria-describedby={`${objectKey}-enabled-hint`}
                onChange={(event) => onChange({ ...mapping, enabled: event.target.checked })}
              />
              <label htmlFor={`${objectKey}-enabled`} className="text-sm font-medium">
                Enabled
              </label>
            </div>
            <p id={`${objectKey}-enabled-hint`} className="mt-1 text-xs text-slate-600 dark:text-slate-400">
              {isUsers
                ? "The users mapping cannot be disabled, as in Entra."
                : "When disabled, groups are not provisioned to Dialpad."}
            </p>
            {enabledError && (
              <p className="text-sm text-red-700 dark:text-red-400" role="alert">
                {enabledError}
              </p>
            )}
          </div>
          <fieldset disabled={!canWrite}>
            <legend className="text-sm font-medium">Target object actions</legend>
            <div className="mt-1 flex gap-4">
              {ACTION_LABELS.map(({ key, label }) => (
                <label key={key} className="flex items-center gap-1.5 text-sm">
                  <input
                    type="checkbox"
                    checked={mapping.actions[key]}
                    onChange={(event) =>
                      onChange({ ...mapping, actions: { ...mapping.actions, [key]: event.target.checked } })
                    }
                  />
                  {label}
                </label>
              ))}
            </div>
          </fieldset>
        </div>

        <section aria-labelledby={`${objectKey}-attributes-heading`} className="space-y-3">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h3 id={`${objectKey}-attributes-heading`} className="text-sm font-semibold">
              Attribute mappings ({mapping.attributeMappings.length})
            </h3>
            <Button
              variant="secondary"
              onClick={onAdd}
              disabled={!canWrite}
              title={canWrite ? undefined : READ_ONLY_REASON}
            >
              Add new mapping
            </Button>
          </div>
          {listError && (
            <p className="text-sm text-red-700 dark:text-red-400" role="alert">
              {listError}
            </p>
          )}
          <AttributeTable
            objectKey={objectKey}
            mappings={mapping.attributeMappings}
            canWrite={canWrite}
            rowErrors={(index) => errorsUnder(`attributeMappings.${index}`)}
            onEdit={onEdit}
            onDelete={onDelete}
          />
        </section>

        <ScopeEditor
          objectKey={objectKey}
          scope={mapping.scope}
          canWrite={canWrite}
          onChange={(scope) => onChange({ ...mapping, scope })}
          errorAt={(path, nested) => errorAt(`scope.${path}`, nested)}
        />
      </div>
    </Card>
  );
}
