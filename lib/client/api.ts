"use client";

import { InteractionRequiredAuthError } from "@azure/msal-browser";
import { useMsal } from "@azure/msal-react";
import { useCallback } from "react";
import { useConsoleConfig } from "@/components/providers";

/** An API failure as RFC 9457 problem details, with the per-field errors when the API sent them. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: { field: string; message: string }[] = [],
  ) {
    super(detail || title);
    this.name = "ApiProblem";
  }

  fieldError(field: string): string | undefined {
    return this.errors.find((error) => error.field === field)?.message;
  }
}

export type ApiFetch = <T>(
  path: string,
  init?: { method?: string; body?: unknown; signal?: AbortSignal },
) => Promise<T>;

/** Calls the console's own API with a bearer token from MSAL (silently renewed; interactive when it must). */
export function useApi(): ApiFetch {
  const { instance } = useMsal();
  const { auth } = useConsoleConfig();
  return useCallback(
    async <T>(
      path: string,
      init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
    ): Promise<T> => {
      const account = instance.getActiveAccount() ?? instance.getAllAccounts()[0];
      if (!account) throw new ApiProblem(401, "Not signed in", "Your session ended. Sign in again.");
      let accessToken: string;
      try {
        accessToken = (await instance.acquireTokenSilent({ scopes: [auth.apiScope], account })).accessToken;
      } catch (error) {
        if (error instanceof InteractionRequiredAuthError) {
          await instance.acquireTokenRedirect({ scopes: [auth.apiScope], account });
        }
        throw error;
      }
      const response = await fetch(path, {
        method: init.method ?? "GET",
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        signal: init.signal,
      });
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      const payload: unknown = text ? safeJson(text) : null;
      if (!response.ok) {
        const problem = (payload ?? {}) as {
          title?: string;
          detail?: string;
          errors?: { field: string; message: string }[];
        };
        throw new ApiProblem(
          response.status,
          problem.title ?? response.statusText,
          problem.detail ?? text.slice(0, 300),
          problem.errors,
        );
      }
      return payload as T;
    },
    [instance, auth.apiScope],
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

export function describeProblem(error: unknown): string {
  if (error instanceof ApiProblem) return error.detail || error.title;
  if (error instanceof Error) return error.message;
  return String(error);
}
