"use client";

import { type KeyboardEvent, useId, useMemo, useState } from "react";
import { cn } from "@/components/ui/cn";
import { TextInput } from "@/components/ui/field";
import { type ObjectKey, sourceAttributeOptions } from "./catalog";

/** More would only make the list longer to scroll than to type into. */
const MAX_SHOWN = 40;

/** Brackets, parentheses or quotes: the admin is writing an expression, not naming an attribute. */
const looksLikeExpression = (text: string) => /[[\]()"]/.test(text);

type Entry = { kind: "attribute"; name: string; common: boolean } | { kind: "expression"; text: string };

/**
 * The Direct mapping's source attribute as a searchable list of Entra's and Graph's attributes (an
 * ARIA combobox), that still takes any name typed (a directory extension, say: Save checks it), and
 * offers to turn typed expression syntax into an Expression mapping instead of refusing it on Save.
 */
export function SourceAttributePicker({
  id,
  objectKey,
  value,
  onChange,
  onUseAsExpression,
  invalid,
  describedBy,
}: {
  id: string;
  objectKey: ObjectKey;
  value: string;
  onChange: (value: string) => void;
  onUseAsExpression: (expression: string) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const listId = useId();
  const options = useMemo(() => sourceAttributeOptions(objectKey), [objectKey]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  const query = value.trim().toLowerCase();
  const matching = query ? options.filter((option) => option.name.toLowerCase().includes(query)) : options;
  // An exact name first, then names that start with the text, then the rest: "mail" before "otherMails".
  const ranked = query
    ? [...matching].sort((a, b) => rank(a.name.toLowerCase(), query) - rank(b.name.toLowerCase(), query))
    : matching;
  const entries: Entry[] = [
    ...(looksLikeExpression(value) ? [{ kind: "expression" as const, text: value.trim() }] : []),
    ...ranked.slice(0, MAX_SHOWN).map((option) => ({ kind: "attribute" as const, ...option })),
  ];
  const expanded = open && entries.length > 0;
  const activeIndex = Math.min(active, entries.length - 1);
  const optionId = (index: number) => `${listId}-option-${index}`;

  const choose = (entry: Entry) => {
    if (entry.kind === "expression") onUseAsExpression(entry.text);
    else onChange(entry.name);
    setOpen(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        setOpen(true);
        setActive(0);
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((activeIndex + step + entries.length) % Math.max(1, entries.length));
    } else if (event.key === "Enter" && expanded) {
      // Enter picks the highlighted entry rather than submitting the dialog's form.
      event.preventDefault();
      const entry = entries[activeIndex];
      if (entry) choose(entry);
    } else if (event.key === "Escape" && expanded) {
      // Closes the list only; a second Escape closes the dialog.
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
    }
  };

  const isKnown = options.some((option) => option.name.toLowerCase() === query);
  const hintId = `${id}-picker-hint`;
  return (
    <div className="relative">
      <TextInput
        id={id}
        role="combobox"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={expanded ? optionId(activeIndex) : undefined}
        aria-describedby={[hintId, describedBy].filter(Boolean).join(" ")}
        value={value}
        invalid={invalid}
        autoComplete="off"
        spellCheck={false}
        onChange={(event) => {
          onChange(event.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <ul
        id={listId}
        role="listbox"
        aria-label="Source attributes"
        hidden={!expanded}
        className="absolute z-10 mt-1 max-h-64 w-full overflow-y-auto rounded-md border border-slate-200 bg-white py-1 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900"
      >
        {entries.map((entry, index) => (
          <li
            key={entry.kind === "expression" ? "expression" : entry.name}
            id={optionId(index)}
            role="option"
            aria-selected={index === activeIndex}
            // mousedown, not click: the input's blur would close the list before a click lands.
            onMouseDown={(event) => {
              event.preventDefault();
              choose(entry);
            }}
            onMouseEnter={() => setActive(index)}
            className={cn(
              "flex cursor-pointer items-center justify-between gap-2 px-3 py-1",
              index === activeIndex && "bg-blue-50 dark:bg-slate-800",
            )}
          >
            {entry.kind === "expression" ? (
              <span>
                Use <code className="font-mono">{entry.text}</code> as an expression
              </span>
            ) : (
              <>
                <span className="font-mono">{entry.name}</span>
                {entry.common && <span className="text-xs text-slate-500 dark:text-slate-400">common</span>}
              </>
            )}
          </li>
        ))}
      </ul>
      <p id={hintId} className="mt-1 text-xs text-slate-600 dark:text-slate-400">
        {query && !isKnown && !looksLikeExpression(value)
          ? "Not one of Entra's attributes; kept as typed (a directory extension is extension_<app id>_<name>). Save checks it against Microsoft Graph."
          : `Type to search ${options.length} Entra ID attributes, or enter any attribute name.`}
        {matching.length > MAX_SHOWN && ` Showing ${MAX_SHOWN} of ${matching.length}.`}
      </p>
    </div>
  );
}

function rank(name: string, query: string): number {
  if (name === query) return 0;
  return name.startsWith(query) ? 1 : 2;
}
