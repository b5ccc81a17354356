"use client";

import { type ReactNode, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { TextInput } from "@/components/ui/field";
import { cn } from "@/components/ui/cn";
import { describeProblem } from "@/lib/client/api";
import {
  useDirectoryGroups,
  useDirectoryUsers,
  type DirectoryGroup,
  type DirectoryUser,
} from "@/lib/client/directory";

interface PickerProps<T> {
  connectionId: string;
  /** Unique per page: the input id and the radio group's name derive from it. */
  id: string;
  label: string;
  placeholder: string;
  selectedId: string | null;
  onSelect: (item: T) => void;
  className?: string;
}

/**
 * Searches Entra ID users (by name, UPN or mail prefix) and picks one. It is not a <form>: it also lives
 * inside the mapping dialog's form, and forms cannot nest, so Enter in the box runs the search.
 */
export function UserPicker(props: PickerProps<DirectoryUser>) {
  const [submitted, setSubmitted] = useState("");
  const users = useDirectoryUsers(props.connectionId, submitted);
  return (
    <SearchList
      {...props}
      noun="users"
      submitted={submitted}
      onSearch={setSubmitted}
      query={users}
      items={users.data?.users}
      primary={(user) => user.displayName ?? user.userPrincipalName ?? user.id}
      secondary={(user) =>
        `${user.userPrincipalName ?? ""}${user.mail && user.mail !== user.userPrincipalName ? ` · ${user.mail}` : ""}`
      }
      marker={(user) =>
        user.assigned === true ? (
          <Badge tone="success">Assigned</Badge>
        ) : user.assigned === false ? (
          <Badge tone="neutral">Not assigned</Badge>
        ) : null
      }
      hint="Type the start of a name, user principal name or mail, then press Search."
    />
  );
}

/** Searches Entra ID groups by name or mail prefix and picks one. */
export function GroupPicker(props: PickerProps<DirectoryGroup>) {
  const [submitted, setSubmitted] = useState("");
  const groups = useDirectoryGroups(props.connectionId, submitted);
  return (
    <SearchList
      {...props}
      noun="groups"
      submitted={submitted}
      onSearch={setSubmitted}
      query={groups}
      items={groups.data?.groups}
      primary={(group) => group.displayName ?? group.id}
      secondary={(group) => [group.mail, group.description].filter(Boolean).join(" · ")}
      hint="Type the start of a group name or mail, then press Search."
    />
  );
}

function SearchList<T extends { id: string }>({
  id,
  label,
  placeholder,
  selectedId,
  onSelect,
  className,
  noun,
  submitted,
  onSearch,
  query,
  items,
  primary,
  secondary,
  marker,
  hint,
}: PickerProps<T> & {
  noun: string;
  submitted: string;
  onSearch: (text: string) => void;
  query: { isFetching: boolean; error: unknown };
  items: T[] | undefined;
  primary: (item: T) => string;
  secondary: (item: T) => string;
  /** Shown beside an item, e.g. whether a user is assigned to the app. */
  marker?: (item: T) => ReactNode;
  /** What to type, shown when Search is pressed with an empty box. */
  hint: string;
}) {
  const [search, setSearch] = useState("");
  const [emptySearch, setEmptySearch] = useState(false);
  const run = () => {
    const text = search.trim();
    // The API refuses an empty search; say what to type rather than doing nothing.
    setEmptySearch(text === "");
    if (text) onSearch(text);
  };
  return (
    <div className={className}>
      <div className="flex gap-2">
        <label htmlFor={`${id}-search`} className="sr-only">
          {label}
        </label>
        <TextInput
          id={`${id}-search`}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              run();
            }
          }}
          placeholder={placeholder}
        />
        <Button variant="secondary" onClick={run}>
          Search
        </Button>
      </div>
      {emptySearch && (
        <p className="mt-2 text-sm" role="status">
          {hint}
        </p>
      )}
      {query.isFetching && (
        <p className="mt-2 text-sm" role="status">
          Searching…
        </p>
      )}
      {Boolean(query.error) && (
        <Alert tone="error" className="mt-2" title="Search failed">
          {describeProblem(query.error)}
        </Alert>
      )}
      {items && items.length === 0 && !emptySearch && (
        <p className="mt-2 text-sm">
          No {noun} match “{submitted}”.
        </p>
      )}
      {items && items.length > 0 && !emptySearch && (
        <fieldset className="mt-2">
          <legend className="sr-only">{`Matching ${noun}`}</legend>
          <ul
            className={cn(
              "max-h-64 divide-y divide-slate-200 overflow-y-auto rounded-md border border-slate-200",
              "dark:divide-slate-800 dark:border-slate-800",
            )}
          >
            {items.map((item) => (
              <li key={item.id}>
                <label className="flex cursor-pointer items-center gap-3 px-3 py-1.5">
                  <input
                    type="radio"
                    name={`${id}-choice`}
                    checked={selectedId === item.id}
                    onChange={() => onSelect(item)}
                  />
                  <span className="min-w-0 flex-1">
                    <span className="block truncate text-sm font-medium">{primary(item)}</span>
                    <span className="block truncate text-xs text-slate-600 dark:text-slate-400">
                      {secondary(item)}
                    </span>
                  </span>
                  {marker?.(item)}
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
    </div>
  );
}
