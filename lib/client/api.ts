"use client";

import { InteractionRequiredAuthError } from "@azure/msal-browser";
import { useMsal } from "@azure/msal-react";
import { useCallback } from "react";
import type { z } from "zod";
import { API } from "@/lib/server/api-definitions";
import { useConsoleConfig } from "./console-config";

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

/**
 * Operations are the keys of `API` (lib/server/api-definitions.ts); their paths, parameters, bodies and
 * answers are typed from the same zod contracts the route handlers parse with and the OpenAPI document
 * lists, so the console cannot call a path or expect a field the server does not have.
 */
export type OperationId = keyof typeof API;
type Definition<O extends OperationId> = (typeof API)[O];
type InputOf<D, K extends string> = D extends { [P in K]: infer S extends z.ZodType }
  ? z.input<S>
  : undefined;

export type ResponseOf<O extends OperationId> = Definition<O>["success"]["schema"] extends z.ZodType
  ? z.output<Definition<O>["success"]["schema"]>
  : undefined;
export type BodyOf<O extends OperationId> = InputOf<Definition<O>, "body">;
export type QueryOf<O extends OperationId> = InputOf<Definition<O>, "query">;
export type ParamsOf<O extends OperationId> = InputOf<Definition<O>, "params">;

export interface CallInput<O extends OperationId> {
  params?: ParamsOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  signal?: AbortSignal;
}

/** The operation's path with its parameters filled in, and the query without empty values. */
export function pathOf<O extends OperationId>(
  operationId: O,
  params?: ParamsOf<O>,
  query?: QueryOf<O>,
): string {
  const values = (params ?? {}) as Record<string, string>;
  const path = API[operationId].path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? ""),
  );
  const search = new URLSearchParams(
    Object.entries((query ?? {}) as Record<string, unknown>)
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([name, value]) => [name, String(value)]),
  ).toString();
  return search ? `${path}?${search}` : path;
}

/** Fetches with a bearer token from MSAL (silently renewed; interactive when it must). */
function useAuthorizedFetch() {
  const { instance } = useMsal();
  const { auth } = useConsoleConfig();
  return useCallback(
    async (
      path: string,
      init: { method: string; body?: unknown; signal?: AbortSignal },
    ): Promise<Response> => {
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
      return fetch(path, {
        method: init.method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        signal: init.signal,
      });
    },
    [instance, auth.apiScope],
  );
}

export type ApiCall = <O extends OperationId>(operationId: O, input?: CallInput<O>) => Promise<ResponseOf<O>>;

/** Calls one operation of the console's own API and answers its parsed JSON (or throws ApiProblem). */
export function useApiCall(): ApiCall {
  const authorizedFetch = useAuthorizedFetch();
  return useCallback(
    async <O extends OperationId>(operationId: O, input: CallInput<O> = {}): Promise<ResponseOf<O>> => {
      const response = await authorizedFetch(pathOf(operationId, input.params, input.query), {
        method: API[operationId].method,
        body: input.body,
        signal: input.signal,
      });
      if (response.status === 204) return undefined as ResponseOf<O>;
      const text = await response.text();
      const payload: unknown = text ? safeJson(text) : null;
      if (!response.ok) throw problemFrom(response, payload, text);
      return payload as ResponseOf<O>;
    },
    [authorizedFetch],
  );
}

/** A file answer (not JSON): the response itself, for the caller to save; failures as ApiProblem. */
export function useApiDownload() {
  const authorizedFetch = useAuthorizedFetch();
  return useCallback(
    async <O extends OperationId>(operationId: O, input: CallInput<O> = {}): Promise<Response> => {
      const response = await authorizedFetch(pathOf(operationId, input.params, input.query), {
        method: API[operationId].method,
        signal: input.signal,
      });
      if (!response.ok) {
        const text = await response.text().catch(() => "");
        throw problemFrom(response, text ? safeJson(text) : null, "");
      }
      return response;
    },
    [authorizedFetch],
  );
}

function problemFrom(response: Response, payload: unknown, text: string): ApiProblem {
  const problem = (payload ?? {}) as {
    title?: string;
    detail?: string;
    errors?: { field: string; message: string }[];
  };
  return new ApiProblem(
    response.status,
    problem.title ?? response.statusText,
    problem.detail ?? text.slice(0, 300),
    problem.errors,
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
