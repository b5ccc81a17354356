import type { LogFilters } from "@/lib/client/logs";

/**
 * The provisioning logs' filters as the console keeps them in the address bar, so a filtered view can be
 * shared, survives a reload, and Back/Forward step through the filters applied. The URL holds what the
 * admin chose ("last 24 hours", not an instant), and the API query is derived from it.
 */
export const PRESETS = [
  { value: "", label: "Any time", hours: 0 },
  { value: "24h", label: "Last 24 hours", hours: 24 },
  { value: "7d", label: "Last 7 days", hours: 24 * 7 },
  { value: "30d", label: "Last 30 days", hours: 24 * 30 },
  { value: "custom", label: "Custom range", hours: 0 },
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Draft {
  preset: string;
  /** datetime-local values: the admin's local time. */
  customFrom: string;
  customTo: string;
  status: string;
  action: string;
  identity: string;
  cycleId: string;
  changeId: string;
}

export const EMPTY_DRAFT: Draft = {
  preset: "",
  customFrom: "",
  customTo: "",
  status: "",
  action: "",
  identity: "",
  cycleId: "",
  changeId: "",
};

export function toParams(values: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(
    Object.entries(values).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

function isoToLocalInput(iso: string | null): string {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const localInputToIso = (value: string) => (value ? new Date(value).toISOString() : undefined);

/** The query string of a draft: custom bounds as instants, so a shared link means the same range anywhere. */
export function urlOfDraft(draft: Draft): URLSearchParams {
  const custom = draft.preset === "custom";
  return toParams({
    date: draft.preset || undefined,
    from: custom ? localInputToIso(draft.customFrom) : undefined,
    to: custom ? localInputToIso(draft.customTo) : undefined,
    status: draft.status || undefined,
    action: draft.action || undefined,
    identity: draft.identity.trim() || undefined,
    cycleId: draft.cycleId.trim() || undefined,
    changeId: draft.changeId.trim() || undefined,
  });
}

export function draftOfUrl(params: URLSearchParams): Draft {
  const preset = params.get("date") ?? "";
  return {
    preset,
    customFrom: preset === "custom" ? isoToLocalInput(params.get("from")) : "",
    customTo: preset === "custom" ? isoToLocalInput(params.get("to")) : "",
    status: params.get("status") ?? "",
    action: params.get("action") ?? "",
    identity: params.get("identity") ?? "",
    cycleId: params.get("cycleId") ?? "",
    changeId: params.get("changeId") ?? "",
  };
}

/**
 * The API query of the URL. A preset becomes an absolute `from` when the URL is read (the caller keeps
 * it per URL), so the query key stays stable: a moving "now" would refetch on every render.
 */
export function filtersOfUrl(params: URLSearchParams, now: number): LogFilters {
  const preset = PRESETS.find((p) => p.value === params.get("date"));
  const custom = params.get("date") === "custom";
  return {
    from: custom
      ? (params.get("from") ?? undefined)
      : preset?.hours
        ? new Date(now - preset.hours * 3_600_000).toISOString()
        : undefined,
    to: custom ? (params.get("to") ?? undefined) : undefined,
    status: params.get("status") || undefined,
    action: params.get("action") || undefined,
    identity: params.get("identity")?.trim() || undefined,
    cycleId: params.get("cycleId")?.trim() || undefined,
    changeId: params.get("changeId")?.trim() || undefined,
  };
}

/** What the API would refuse, said before asking it; null when the draft can be applied. */
export function draftProblem(draft: Draft): string | null {
  for (const [field, label] of [
    ["cycleId", "Cycle ID"],
    ["changeId", "Change ID"],
  ] as const) {
    const value = draft[field].trim();
    if (value && !UUID.test(value))
      return `${label} must be a GUID such as 1b2c3d4e-0000-4000-8000-000000000000.`;
  }
  const identity = draft.identity.trim();
  if (identity && identity.length < 3)
    return "Identity needs at least 3 characters of a name, or a whole UPN, mail or object ID.";
  if (draft.preset === "custom" && draft.customFrom && draft.customTo && draft.customFrom > draft.customTo)
    return "The start of the custom range must be before its end.";
  return null;
}
