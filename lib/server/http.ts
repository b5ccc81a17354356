import { ZodError, type z } from "zod";
import { AuthError, requireRole, SigningKeysUnavailableError, type Principal } from "../auth/verify-token";
import { AppError } from "./errors";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../db/unavailable";
import { GraphAuthError, GraphError } from "../graph";
import { serverContext, type ServerContext } from "./context";
import { readJsonBody, rejectUnsafeStrings } from "./request-body";

type Access = "read" | "write";

interface RouteSpec<P extends z.ZodType, B extends z.ZodType, Q extends z.ZodType> {
  access: Access;
  params?: P;
  body?: B;
  query?: Q;
}

interface RouteInput<P, B, Q> {
  params: P;
  body: B;
  query: Q;
  principal: Principal;
  context: ServerContext;
  request: Request;
}

type RouteHandler<P, B, Q> = (input: RouteInput<P, B, Q>) => Promise<Response | object | null>;

/**
 * Every /api route goes through here: bearer token verified and role checked before anything else,
 * input parsed with the route's zod schemas (unknown fields rejected, errors per field), and every
 * failure answered as RFC 9457 problem+json. Responses carry personal data, so they are never cached.
 */
export function apiRoute<
  P extends z.ZodType = z.ZodUnknown,
  B extends z.ZodType = z.ZodUnknown,
  Q extends z.ZodType = z.ZodUnknown,
>(spec: RouteSpec<P, B, Q>, handler: RouteHandler<z.infer<P>, z.infer<B>, z.infer<Q>>) {
  return async (
    request: Request,
    routeContext: { params: Promise<Record<string, string>> },
  ): Promise<Response> => {
    let context: ServerContext | undefined;
    try {
      context = serverContext();
      const principal = await context.verifyAuthorization(request.headers.get("authorization"));
      requireRole(principal, spec.access);
      const params = spec.params ? parseOrThrow(spec.params, await routeContext.params, "path") : undefined;
      const query = spec.query ? parseOrThrow(spec.query, readQuery(request), "query") : undefined;
      const body = spec.body
        ? parseOrThrow(spec.body, await readRequestJson(request, context), "body")
        : undefined;
      const result = await handler({ params, body, query, principal, context, request } as RouteInput<
        z.infer<P>,
        z.infer<B>,
        z.infer<Q>
      >);
      if (result instanceof Response) return withApiHeaders(result);
      if (result === null) return withApiHeaders(new Response(null, { status: 204 }));
      return json(result);
    } catch (error) {
      return problemResponse(error, request, context);
    }
  };
}

export function json(value: unknown, status = 200): Response {
  return withApiHeaders(
    new Response(JSON.stringify(value), {
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
    }),
  );
}

function withApiHeaders(response: Response): Response {
  response.headers.set("cache-control", "no-store");
  return response;
}

/** The JSON body, bounded in size and checked for media type and unstorable strings (request-body.ts). */
export function readRequestJson(request: Request, context: ServerContext): Promise<unknown> {
  return readJsonBody(request, { maxBytes: context.settings.MAX_REQUEST_BODY_BYTES });
}

function readQuery(request: Request): Record<string, string> {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  rejectUnsafeStrings(query, "query");
  return query;
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw result.error.issues.length
    ? new ZodError(result.error.issues)
    : new AppError("validation_failed", `Invalid ${where}`);
}

export function fieldErrorsFromZod(error: ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => {
    const field = issue.path.join(".");
    if (issue.code === "unrecognized_keys") {
      return { field: field || issue.keys.join(", "), message: `unknown field(s): ${issue.keys.join(", ")}` };
    }
    return { field: field || "(body)", message: issue.message };
  });
}

export function problemResponse(error: unknown, request: Request, context?: ServerContext): Response {
  const instance = new URL(request.url).pathname;
  let problem: Record<string, unknown>;
  if (error instanceof AuthError) {
    problem = {
      type: `urn:problem:${error.code}`,
      title: error.status === 401 ? "Not signed in" : "Forbidden",
      status: error.status,
      detail: error.message,
    };
  } else if (error instanceof SigningKeysUnavailableError) {
    // The identity provider's keys could not be fetched: an outage on our side, not a bad token.
    problem = {
      type: "urn:problem:signing_keys_unavailable",
      title: "Service unavailable",
      status: 503,
      detail: "Sign-in keys could not be loaded from the identity provider; try again shortly.",
    };
  } else if (error instanceof ZodError) {
    const errors = fieldErrorsFromZod(error);
    problem = {
      type: "urn:problem:validation_failed",
      title: "Invalid request",
      status: 422,
      detail: errors.map((entry) => `${entry.field}: ${entry.message}`).join("; "),
      errors,
    };
  } else if (error instanceof GraphAuthError || error instanceof GraphError) {
    // The source directory refused or failed: the admin needs its message, not a generic 500.
    problem = {
      type: "urn:problem:upstream_failed",
      title: "Microsoft Graph request failed",
      status: 502,
      detail: error.message,
    };
  } else if (error instanceof AppError) {
    problem = {
      type: `urn:problem:${error.code}`,
      title: titleFor(error.status),
      status: error.status,
      detail: error.detail,
    };
    if (error.errors.length) problem.errors = error.errors;
  } else if (isDatabaseUnavailable(error)) {
    // An outage to wait out, not a bug: clients retry after Retry-After and the pool reconnects.
    context?.log.warn(
      { err: error instanceof Error ? error.message.split("\n")[0] : String(error), path: instance },
      "database unavailable",
    );
    problem = {
      type: "urn:problem:database_unavailable",
      title: "Service unavailable",
      status: 503,
      detail: "The database is not answering; try again shortly.",
    };
  } else {
    context?.log.error(
      {
        err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error),
        path: instance,
      },
      "unhandled API error",
    );
    problem = {
      type: "urn:problem:internal",
      title: "Internal error",
      status: 500,
      detail: "Something went wrong on the server; the error was logged.",
    };
  }
  problem.instance = instance;
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "cache-control": "no-store",
  };
  if (problem.status === 401) headers["www-authenticate"] = 'Bearer error="invalid_token"';
  if (problem.type === "urn:problem:database_unavailable")
    headers["retry-after"] = String(DATABASE_RETRY_AFTER_SECONDS);
  return new Response(JSON.stringify(problem), { status: problem.status as number, headers });
}

function titleFor(status: number): string {
  return (
    {
      404: "Not found",
      409: "Conflict",
      413: "Request body too large",
      415: "Unsupported media type",
      422: "Invalid request",
      502: "Upstream failure",
      503: "Service unavailable",
    }[status] ?? "Error"
  );
}
