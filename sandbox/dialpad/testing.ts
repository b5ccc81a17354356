/* Test helpers for the Dialpad emulator's own tests (not imported by product code). */
import {
  startDialpadEmulator,
  SANDBOX_DIALPAD_KEY,
  type DialpadEmulatorOptions,
  type RunningDialpadEmulator,
} from "./server";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, PATCH_OP } from "./urns";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are inspected ad hoc in tests
export type Body = any;

export interface Reply {
  status: number;
  body: Body;
  headers: Headers;
}

/** Functional tests run without the rate limit so they are not throttled by their own traffic. */
export function startQuiet(options: DialpadEmulatorOptions = {}): Promise<RunningDialpadEmulator> {
  return startDialpadEmulator({ rateLimit: null, ...options });
}

export function scimClient(emu: RunningDialpadEmulator, key: string | null = SANDBOX_DIALPAD_KEY) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await fetch(`${emu.url}/scim${path}`, {
      method,
      headers: {
        ...(key ? { Authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "Content-Type": "application/scim+json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Body = undefined;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export type Scim = ReturnType<typeof scimClient>;

export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [CORE_USER, ENTERPRISE_USER],
    userName,
    active: true,
    name: { givenName: "Test", familyName: "User" },
    emails: [{ primary: true, type: "work", value: userName }],
    ...extra,
  };
}

export function groupBody(displayName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: [CORE_GROUP], displayName, ...extra };
}

export function patchBody(...Operations: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [PATCH_OP], Operations };
}

export const filterQuery = (filter: string): string => `filter=${encodeURIComponent(filter)}`;
