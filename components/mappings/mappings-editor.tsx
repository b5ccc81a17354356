"use client";

import { type ChangeEvent, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { ApiProblem, describeProblem } from "@/lib/client/api";
import type { TAttributeMapping, TMappingConfig, TObjectMapping } from "@/lib/mapping";
import { AttributeDialog, newAttributeMapping } from "./attribute-dialog";
import { type ObjectKey, READ_ONLY_REASON } from "./catalog";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { ObjectMappingSection } from "./object-mapping-section";
import type { DirectoryUser } from "@/lib/client/directory";
import {
  useExportSchema,
  useImportSchema,
  useMappings,
  useRestoreDefaults,
  useSaveMappings,
} from "@/lib/client/mappings";

type FieldError = { field: string; message: string };
type Confirming = { kind: "restore" } | { kind: "import"; document: unknown; fileName: string } | null;

const OBJECT_KEYS: ObjectKey[] = ["users", "groups"];

/** Empty value boxes are how the form shows "no value yet"; the API should see no value, and say so. */
function normalizeForSave(config: TMappingConfig): TMappingConfig {
  const clean = (mapping: TObjectMapping): TObjectMapping => ({
    ...mapping,
    scope: mapping.scope
      ? {
          groups: mapping.scope.groups.map((group) => ({
            ...group,
            clauses: group.clauses.map((clause) => ({
              ...clause,
              sourceOperandName: clause.sourceOperandName.trim(),
              targetOperand: { values: clause.targetOperand.values.filter((value) => value !== "") },
            })),
          })),
        }
      : null,
  });
  return { users: clean(config.users), groups: clean(config.groups) };
}

/** "Users › mapping to title › Source": where a save error belongs, in words. */
function describeField(field: string, config: TMappingConfig): string {
  const [objectKey, ...rest] = field.split(".");
  if (objectKey !== "users" && objectKey !== "groups") return field;
  const parts = [objectKey === "users" ? "Users" : "Groups"];
  if (rest[0] === "attributeMappings" && rest[1] !== undefined) {
    const target = config[objectKey].attributeMappings[Number(rest[1])]?.target;
    parts.push(target ? `mapping to ${target}` : `mapping ${Number(rest[1]) + 1}`);
    if (rest[2]) parts.push(rest.slice(2).join("."));
  } else if (rest[0] === "scope" && rest[1] === "groups" && rest[2] !== undefined) {
    parts.push(`scoping filter ${Number(rest[2]) + 1}`);
    if (rest[3] === "clauses" && rest[4] !== undefined) parts.push(`clause ${Number(rest[4]) + 1}`);
  } else if (rest.length > 0) {
    parts.push(rest.join("."));
  }
  return parts.join(" › ");
}

function downloadJson(document_: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke later: some browsers read the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function MappingsEditor({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const mappings = useMappings(connectionId);
  const save = useSaveMappings(connectionId);
  const restore = useRestoreDefaults(connectionId);
  const importSchema = useImportSchema(connectionId);
  const exportSchema = useExportSchema(connectionId);

  // null = no unsaved edits: the page shows what the server has.
  const [draft, setDraft] = useState<TMappingConfig | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [editing, setEditing] = useState<{ objectKey: ObjectKey; index: number | null } | null>(null);
  const [previewUser, setPreviewUser] = useState<DirectoryUser | null>(null);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [notice, setNotice] = useState<{
    tone: "success" | "warning" | "error";
    title: string;
    items?: string[];
  } | null>(null);

  if (mappings.error) {
    return (
      <Alert tone="error" title="Could not load the mappings">
        {describeProblem(mappings.error)}
      </Alert>
    );
  }
  if (!mappings.data) return <p role="status">Loading mappings…</p>;

  const config = draft ?? mappings.data.config;
  const isDirty = draft !== null;

  const errorAt = (path: string, nested = false) =>
    fieldErrors.find((error) => error.field === path || (nested && error.field.startsWith(`${path}.`)))
      ?.message;
  const errorsUnder = (prefix: string) =>
    fieldErrors
      .filter((error) => error.field.startsWith(`${prefix}.`))
      .map((error) => ({ field: error.field.slice(prefix.length + 1), message: error.message }));

  const change = (next: TMappingConfig) => {
    setDraft(next);
    setNotice(null);
  };
  const updateObject = (objectKey: ObjectKey, next: TObjectMapping) => {
    // Scope errors are positional; once the filters change they may point at the wrong clause.
    if (JSON.stringify(next.scope) !== JSON.stringify(config[objectKey].scope)) {
      setFieldErrors((errors) => errors.filter((error) => !error.field.startsWith(`${objectKey}.scope`)));
    }
    change({ ...config, [objectKey]: next });
  };
  const applyAttribute = (objectKey: ObjectKey, index: number | null, mapping: TAttributeMapping) => {
    const list = config[objectKey].attributeMappings;
    const nextList =
      index === null ? [...list, mapping] : list.map((item, i) => (i === index ? mapping : item));
    setFieldErrors((errors) =>
      errors.filter((error) =>
        index === null ? true : !error.field.startsWith(`${objectKey}.attributeMappings.${index}.`),
      ),
    );
    change({ ...config, [objectKey]: { ...config[objectKey], attributeMappings: nextList } });
    setEditing(null);
  };
  const deleteAttribute = (objectKey: ObjectKey, index: number) => {
    // Row errors are by index; after a deletion they would land on the wrong rows.
    setFieldErrors((errors) =>
      errors.filter((error) => !error.field.startsWith(`${objectKey}.attributeMappings`)),
    );
    change({
      ...config,
      [objectKey]: {
        ...config[objectKey],
        attributeMappings: config[objectKey].attributeMappings.filter((_, i) => i !== index),
      },
    });
  };

  const onSave = () => {
    setNotice(null);
    save.mutate(normalizeForSave(config), {
      onSuccess: () => {
        setDraft(null);
        setFieldErrors([]);
        setNotice({
          tone: "success",
          title: "Saved. The next provisioning cycle is a full (initial) cycle.",
        });
      },
      onError: (error) => {
        const errors = error instanceof ApiProblem ? error.errors : [];
        setFieldErrors(errors);
        setNotice({
          tone: "error",
          title: errors.length
            ? `Not saved: ${errors.length} problem${errors.length === 1 ? "" : "s"} to fix`
            : "Not saved",
          items: errors.length
            ? errors.map((entry) => `${describeField(entry.field, config)}: ${entry.message}`)
            : [describeProblem(error)],
        });
      },
    });
  };

  const onRestore = () =>
    restore.mutate(undefined, {
      onSuccess: () => {
        setDraft(null);
        setFieldErrors([]);
        setConfirming(null);
        setNotice({
          tone: "success",
          title: "Default mappings restored. The next provisioning cycle is a full (initial) cycle.",
        });
      },
      onError: (error) => {
        setConfirming(null);
        setNotice({ tone: "error", title: "Defaults not restored", items: [describeProblem(error)] });
      },
    });

  const onExport = () =>
    exportSchema.mutate(undefined, {
      onSuccess: (document_) => downloadJson(document_, `dialpad-provisioning-schema-${connectionId}.json`),
      onError: (error) =>
        setNotice({ tone: "error", title: "Schema not exported", items: [describeProblem(error)] }),
    });

  const onFileChosen = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const file = input.files?.[0];
    // Clear now so choosing the same file again (after fixing it) fires change again.
    input.value = "";
    if (!file) return;
    try {
      setConfirming({
        kind: "import",
        document: JSON.parse(await file.text()) as unknown,
        fileName: file.name,
      });
    } catch (error) {
      setNotice({
        tone: "error",
        title: `${file.name} is not a JSON file`,
        items: [error instanceof Error ? error.message : String(error)],
      });
    }
  };

  const onImport = (document_: unknown, fileName: string) =>
    importSchema.mutate(document_, {
      onSuccess: (result) => {
        setDraft(null);
        setFieldErrors([]);
        setConfirming(null);
        setNotice({
          tone: result.warnings.length ? "warning" : "success",
          title: `Imported ${fileName}. The next provisioning cycle is a full (initial) cycle.${result.warnings.length ? " Some parts were not imported:" : ""}`,
          items: result.warnings,
        });
      },
      onError: (error) => {
        setConfirming(null);
        const errors = error instanceof ApiProblem ? error.errors : [];
        setNotice({
          tone: "error",
          title: `${fileName} was not imported`,
          items: errors.length
            ? errors.map((entry) => `${entry.field}: ${entry.message}`)
            : [describeProblem(error)],
        });
      },
    });

  const editingMapping =
    editing && editing.index !== null
      ? config[editing.objectKey].attributeMappings[editing.index]
      : undefined;
  const nextPrecedence = editing
    ? Math.max(0, ...config[editing.objectKey].attributeMappings.map((m) => m.matchingPriority)) + 1
    : 1;
  const isBusy = save.isPending || restore.isPending || importSchema.isPending;

  return (
    <div className="space-y-6">
      {!canWrite && <Alert tone="info">{READ_ONLY_REASON}</Alert>}
      <Alert tone="info">
        Any change to the attribute mappings or scoping filters makes the next provisioning cycle a full
        (initial) cycle: every user and group is evaluated again, as in Entra.
      </Alert>

      <div className="sticky top-0 z-10 -mx-1 flex flex-wrap items-center gap-2 rounded-lg border border-slate-200 bg-white/95 p-2 backdrop-blur dark:border-slate-800 dark:bg-slate-900/95">
        <Button
          onClick={onSave}
          disabled={!canWrite || isBusy || !isDirty}
          title={canWrite ? undefined : READ_ONLY_REASON}
        >
          {save.isPending ? "Saving…" : "Save"}
        </Button>
        <Button
          variant="secondary"
          disabled={!isDirty || isBusy}
          onClick={() => {
            setDraft(null);
            setFieldErrors([]);
            setNotice(null);
          }}
        >
          Discard changes
        </Button>
        <span className="text-sm" role="status">
          {isDirty ? (
            <Badge tone="warning">Unsaved changes</Badge>
          ) : mappings.data.isDefault ? (
            <Badge>Default mappings</Badge>
          ) : (
            <Badge tone="info">Customized mappings</Badge>
          )}
        </span>
        <div className="ml-auto flex flex-wrap gap-2">
          <Button variant="secondary" onClick={onExport} disabled={exportSchema.isPending}>
            {exportSchema.isPending ? "Exporting…" : "Export schema"}
          </Button>
          <label
            className={cn(
              "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium focus-within:ring-2 focus-within:ring-blue-500 focus-within:ring-offset-2 dark:border-slate-700 dark:bg-slate-900",
              canWrite && !isBusy
                ? "cursor-pointer hover:bg-slate-100 dark:hover:bg-slate-800"
                : "cursor-not-allowed text-slate-400",
            )}
            title={canWrite ? undefined : READ_ONLY_REASON}
          >
            Import schema
            <input
              type="file"
              accept="application/json,.json"
              className="sr-only"
              disabled={!canWrite || isBusy}
              onChange={(event) => void onFileChosen(event)}
            />
          </label>
          <Button
            variant="secondary"
            disabled={!canWrite || isBusy}
            title={canWrite ? undefined : READ_ONLY_REASON}
            onClick={() => setConfirming({ kind: "restore" })}
          >
            Restore default mappings
          </Button>
        </div>
      </div>

      {notice && (
        <Alert tone={notice.tone} title={notice.title}>
          {notice.items && notice.items.length > 0 && (
            <ul className="list-disc space-y-0.5 pl-5">
              {notice.items.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
        </Alert>
      )}

      {OBJECT_KEYS.map((objectKey) => (
        <ObjectMappingSection
          key={objectKey}
          objectKey={objectKey}
          mapping={config[objectKey]}
          canWrite={canWrite}
          onChange={(next) => updateObject(objectKey, next)}
          errorAt={(path, nested) => errorAt(`${objectKey}.${path}`, nested)}
          errorsUnder={(path) => errorsUnder(`${objectKey}.${path}`)}
          onEdit={(index) => setEditing({ objectKey, index })}
          onAdd={() => setEditing({ objectKey, index: null })}
          onDelete={(index) => deleteAttribute(objectKey, index)}
        />
      ))}

      {editing && (
        <AttributeDialog
          // A fresh form per row opened, so stale input from another row never leaks in.
          key={`${editing.objectKey}-${editing.index ?? "new"}`}
          connectionId={connectionId}
          objectKey={editing.objectKey}
          initial={editingMapping ?? newAttributeMapping()}
          isNew={editing.index === null}
          nextPrecedence={nextPrecedence}
          serverErrors={Object.fromEntries(
            editing.index === null
              ? []
              : errorsUnder(`${editing.objectKey}.attributeMappings.${editing.index}`).map((error) => [
                  error.field,
                  error.message,
                ]),
          )}
          previewUser={previewUser}
          onPreviewUserChange={setPreviewUser}
          onCancel={() => setEditing(null)}
          onApply={(mapping) => applyAttribute(editing.objectKey, editing.index, mapping)}
        />
      )}

      <ConfirmDialog
        open={confirming?.kind === "restore"}
        title="Restore default mappings?"
        confirmLabel="Restore defaults"
        isPending={restore.isPending}
        onCancel={() => setConfirming(null)}
        onConfirm={onRestore}
      >
        <p>
          This replaces every user and group attribute mapping with Dialpad&apos;s defaults and removes all
          scoping filters{isDirty ? ", and discards your unsaved changes" : ""}.
        </p>
        <p>
          It is saved at once, and the next provisioning cycle is a full (initial) cycle that evaluates every
          user and group again.
        </p>
      </ConfirmDialog>

      <ConfirmDialog
        open={confirming?.kind === "import"}
        title="Import this schema?"
        confirmLabel="Import and save"
        isPending={importSchema.isPending}
        onCancel={() => setConfirming(null)}
        onConfirm={() => confirming?.kind === "import" && onImport(confirming.document, confirming.fileName)}
      >
        <p>
          The mappings and scoping filters in{" "}
          <strong>{confirming?.kind === "import" ? confirming.fileName : ""}</strong> replace the current ones
          {isDirty ? ", and your unsaved changes are discarded" : ""}.
        </p>
        <p>It is saved at once, and the next provisioning cycle is a full (initial) cycle.</p>
      </ConfirmDialog>
    </div>
  );
}
