import { z } from "zod";
import {
  DirectoryError,
  groupInputSchema,
  groupPatchSchema,
  userInputSchema,
  userPatchSchema,
  type Directory,
} from "./directory";
import { SEED_GROUPS, SEED_USERS, seedDirectory, type SeedOptions } from "./seed";

/**
 * The sandbox's own control API under /_sandbox/ (no token, loopback only): lets the console's
 * sandbox page and tests running in another process change the directory and the emulator's
 * behaviour. It is not part of Microsoft Graph.
 */

export interface EmulatorConfig {
  rateLimit: { requestsPerSecond: number } | null;
  latencyMs: number;
  /** The next N Graph (/v1.0) requests get 429 TooManyRequests with Retry-After: 1. */
  burst429: number;
  /** The next N Graph (/v1.0) requests get 503 ServiceUnavailable, after any 429 burst. */
  burst503: number;
}

export interface AdminContext {
  directory: Directory;
  getConfig(): EmulatorConfig;
  setConfig(config: EmulatorConfig): void;
  requests(): unknown[];
  /** Whether the directory was last loaded from the seed (well-known ids are then meaningful). */
  seeded: { value: boolean };
}

export interface AdminResponse {
  status: number;
  body?: unknown;
}

const seedOptionsSchema = z.strictObject({
  users: z.number().int().min(0).max(1_000_000).optional(),
  groups: z.number().int().min(0).max(100_000).optional(),
  seed: z.number().int().optional(),
});
const extensionSchema = z.strictObject({
  appId: z.string().uuid(),
  appDisplayName: z.string().min(1).max(256),
  name: z.string().regex(/^[A-Za-z0-9_]+$/, "letters, digits and _ only"),
  dataType: z.enum(["Binary", "Boolean", "DateTime", "Integer", "LargeInteger", "String"]).optional(),
  isMultiValued: z.boolean().optional(),
  isSyncedFromOnPremises: z.boolean().optional(),
  targetObjects: z.array(z.enum(["User", "Group"])).min(1),
});
const resetSchema = z.strictObject({ seed: z.union([seedOptionsSchema, z.literal(false)]).optional() });
const configSchema = z.strictObject({
  rateLimit: z.strictObject({ requestsPerSecond: z.number().positive() }).nullable().optional(),
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  burst429: z.number().int().min(0).optional(),
  burst503: z.number().int().min(0).optional(),
});
const assignmentSchema = z.strictObject({ principalId: z.string().min(1), appRoleId: z.string().min(1) });

class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new AdminError(
      400,
      "InvalidRequest",
      result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    );
  }
  return result.data;
}

export function handleAdmin(ctx: AdminContext, method: string, url: URL, body: unknown): AdminResponse {
  try {
    return route(ctx, method, url, body);
  } catch (error) {
    if (error instanceof AdminError)
      return { status: error.status, body: { error: { code: error.code, message: error.message } } };
    if (error instanceof DirectoryError) {
      const status = error.kind === "NotFound" ? 404 : error.kind === "Conflict" ? 409 : 400;
      return { status, body: { error: { code: error.kind, message: error.message } } };
    }
    throw error;
  }
}

function route(ctx: AdminContext, method: string, url: URL, body: unknown): AdminResponse {
  const segments = url.pathname
    .split("/")
    .filter(Boolean)
    .slice(1)
    .map((s) => decodeURIComponent(s));
  const [resource, id, sub, subId] = segments;
  const d = ctx.directory;
  const key = `${method} ${resource ?? ""}${id === undefined ? "" : "/:id"}${sub === undefined ? "" : `/${sub}`}${subId === undefined ? "" : "/:id"}`;

  switch (key) {
    case "GET directory":
      return {
        status: 200,
        body: {
          ...d.summary(),
          servicePrincipal: {
            id: d.servicePrincipal.id,
            appId: d.servicePrincipal.appId,
            displayName: d.servicePrincipal.displayName,
            appRoles: d.servicePrincipal.appRoles,
          },
          wellKnown: ctx.seeded.value ? { users: SEED_USERS, groups: SEED_GROUPS } : null,
        },
      };
    case "POST users":
      return { status: 201, body: d.addUser(parse(userInputSchema, body)) };
    case "GET users/:id": {
      const user = d.getUser(id!) ?? d.getDeletedUser(id!);
      if (!user) throw new AdminError(404, "NotFound", `User '${id}' does not exist.`);
      return {
        status: 200,
        body: { ...user, memberOf: d.memberOf(user.id), appRoleAssignments: d.assignmentsOf(user.id) },
      };
    }
    case "PATCH users/:id":
      return { status: 200, body: d.updateUser(id!, parse(userPatchSchema, body)) };
    case "DELETE users/:id":
      if (url.searchParams.get("hard") === "true") d.hardDeleteUser(id!);
      else d.softDeleteUser(id!);
      return { status: 204 };
    case "POST users/:id/restore":
      return { status: 200, body: d.restoreUser(id!) };
    case "POST groups":
      return { status: 201, body: d.addGroup(parse(groupInputSchema, body)) };
    case "PATCH groups/:id":
      return { status: 200, body: d.updateGroup(id!, parse(groupPatchSchema, body)) };
    case "DELETE groups/:id":
      d.deleteGroup(id!);
      return { status: 204 };
    case "POST groups/:id/members/:id":
      d.addMember(id!, subId!);
      return { status: 204 };
    case "DELETE groups/:id/members/:id":
      d.removeMember(id!, subId!);
      return { status: 204 };
    case "POST assignments": {
      const { principalId, appRoleId } = parse(assignmentSchema, body);
      return { status: 201, body: d.assign(principalId, appRoleId) };
    }
    case "DELETE assignments/:id": {
      const removed = d.unassign(id!, url.searchParams.get("appRoleId") ?? undefined);
      return { status: 200, body: { removed } };
    }
    case "POST reset": {
      const { seed } = parse(resetSchema, body ?? {});
      d.reset();
      if (seed !== false) seedDirectory(d, (seed ?? {}) satisfies SeedOptions);
      ctx.seeded.value = seed !== false;
      return { status: 200, body: d.summary() };
    }
    case "GET extensionProperties":
      return { status: 200, body: { value: d.extensions.list() } };
    case "POST extensionProperties":
      return { status: 201, body: d.extensions.register(parse(extensionSchema, body)) };
    case "DELETE extensionProperties/:id":
      if (!d.extensions.remove(id!))
        throw new AdminError(404, "NotFound", `No extension property '${id}' is registered.`);
      return { status: 204 };
    case "GET config":
      return { status: 200, body: ctx.getConfig() };
    case "PUT config": {
      const patch = parse(configSchema, body ?? {});
      const current = ctx.getConfig();
      ctx.setConfig({
        rateLimit: patch.rateLimit === undefined ? current.rateLimit : patch.rateLimit,
        latencyMs: patch.latencyMs ?? current.latencyMs,
        burst429: patch.burst429 ?? current.burst429,
        burst503: patch.burst503 ?? current.burst503,
      });
      return { status: 200, body: ctx.getConfig() };
    }
    case "GET requests":
      return { status: 200, body: { requests: ctx.requests() } };
    default:
      throw new AdminError(404, "NotFound", `No sandbox admin route for ${method} ${url.pathname}.`);
  }
}
