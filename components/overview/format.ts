/** Formatting shared by the overview's cards. */

/** The quarantine's deletions were held by the source-shrink guard, not by the threshold. */
export function heldBySourceShrink(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { sourceShrink?: unknown }).sourceShrink === true
  );
}

/** quarantine.error and cycle.error are free JSON from the engine: show the message when there is one. */
export function errorMessage(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === "string") return error;
  if (typeof error === "object") {
    // Cycle errors carry { code, message }; quarantine errors carry { reason, detail }.
    const { message, detail, code } = error as { message?: unknown; detail?: unknown; code?: unknown };
    const text = typeof message === "string" ? message : typeof detail === "string" ? detail : null;
    if (text) return typeof code === "string" ? `${code}: ${text}` : text;
  }
  return JSON.stringify(error);
}

export function formatDate(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}

export function formatDuration(from: string, to: string): string {
  const seconds = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
