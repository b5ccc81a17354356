"use client";

import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  createContext,
  use,
} from "react";
import { cn } from "./cn";

/**
 * What a control inside a Field needs to be announced with its message: the id of the text that
 * describes it (the error when there is one, else the hint) and whether its value was refused.
 */
const FieldContext = createContext<{ describedBy?: string; invalid: boolean } | null>(null);

export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
}) {
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <FieldContext value={{ describedBy, invalid: Boolean(error) }}>{children}</FieldContext>
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="text-sm text-red-700 dark:text-red-400" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The surrounding Field's description and validity, unless the control sets its own. */
function useFieldAria(invalid: boolean | undefined, describedBy: string | undefined) {
  const field = use(FieldContext);
  const isInvalid = invalid ?? field?.invalid ?? false;
  return {
    "aria-invalid": isInvalid || undefined,
    "aria-describedby": describedBy ?? field?.describedBy,
    isInvalid,
  };
}

const CONTROL =
  "block w-full rounded-md border bg-white px-3 py-2 text-sm shadow-sm focus:border-blue-600 focus:ring-1 focus:ring-blue-600 focus:outline-none dark:bg-slate-900 " +
  // Read-only (a disabled fieldset for Readers) must not look like a box to type in.
  "disabled:cursor-not-allowed disabled:border-dashed disabled:bg-slate-100 disabled:text-slate-700 disabled:shadow-none dark:disabled:bg-slate-800 dark:disabled:text-slate-300";

export function TextInput({
  className,
  invalid,
  "aria-describedby": describedBy,
  ...props
}: InputHTMLAttributes<HTMLInputElement> & { invalid?: boolean }) {
  const { isInvalid, ...aria } = useFieldAria(invalid, describedBy);
  return (
    <input
      {...aria}
      className={cn(
        CONTROL,
        isInvalid ? "border-red-600" : "border-slate-300 dark:border-slate-700",
        className,
      )}
      {...props}
    />
  );
}

export function SelectInput({
  className,
  invalid,
  "aria-describedby": describedBy,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { invalid?: boolean }) {
  const { isInvalid, ...aria } = useFieldAria(invalid, describedBy);
  return (
    <select
      {...aria}
      className={cn(
        CONTROL,
        isInvalid ? "border-red-600" : "border-slate-300 dark:border-slate-700",
        className,
      )}
      {...props}
    />
  );
}
