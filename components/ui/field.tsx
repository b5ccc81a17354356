import type { InputHTMLAttributes, ReactNode } from "react";
import { cn } from "./cn";

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
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      {children}
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

export function TextInput({
  className,
  invalid,
  ...props
}: InputHTMLAttributes<HTMLInputElement> & { invalid?: boolean }) {
  return (
    <input
      aria-invalid={invalid || undefined}
      className={cn(
        "block w-full rounded-md border bg-white px-3 py-2 text-sm shadow-sm focus:border-blue-600 focus:ring-1 focus:ring-blue-600 focus:outline-none dark:bg-slate-900",
        // Read-only (a disabled fieldset for Readers) must not look like a box to type in.
        "disabled:cursor-not-allowed disabled:border-dashed disabled:bg-slate-100 disabled:text-slate-700 disabled:shadow-none dark:disabled:bg-slate-800 dark:disabled:text-slate-300",
        invalid ? "border-red-600" : "border-slate-300 dark:border-slate-700",
        className,
      )}
      {...props}
    />
  );
}
