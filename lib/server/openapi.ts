import { z } from "zod";
import { ZProblem } from "../contracts/common";
import { API, type ApiDefinition } from "./api-definitions";

/**
 * Requests are documented in their input shape (what a client sends: defaults optional, coercions accept
 * strings), responses in their output shape (what the server sends).
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}

function successResponse(definition: ApiDefinition): Record<string, unknown> {
  const { description, schema, contentType, otherContent } = definition.success;
  if (!schema) return { description };
  const content: Record<string, unknown> = {
    [contentType ?? "application/json"]: { schema: jsonSchema(schema, "output") },
  };
  for (const [mediaType, other] of Object.entries(otherContent ?? {}))
    content[mediaType] = { schema: jsonSchema(other, "output") };
  return { description, content };
}

function parameters(definition: ApiDefinition): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  for (const [where, schema] of [
    ["path", definition.params],
    ["query", definition.query],
  ] as const) {
    if (!schema) continue;
    const object = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      list.push({
        name,
        in: where,
        required: where === "path" || (object.required ?? []).includes(name),
        schema: property,
      });
    }
  }
  return list;
}

/** The OpenAPI 3.1 document, built from the same zod schemas the route handlers parse with. */
export function buildOpenApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, definition] of Object.entries(API) as [string, ApiDefinition][]) {
    const responses: Record<string, unknown> = {
      [String(definition.success.status)]: successResponse(definition),
    };
    const problem = (description: string) => ({
      description,
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    });
    if (definition.access !== "public") {
      responses["401"] = problem("No or invalid bearer token");
      responses["403"] = problem(
        definition.access === "write"
          ? "Requires the Provisioning.Admin role"
          : "Requires the Provisioning.Reader or Provisioning.Admin role",
      );
    }
    if (definition.params || definition.query || definition.body)
      responses["422"] = problem("Invalid input; `errors` names each field");
    if (definition.body) {
      responses["413"] = problem("The body is larger than MAX_REQUEST_BODY_BYTES (1 MiB by default)");
      responses["415"] = problem("The body is not application/json");
    }
    if (definition.params) responses["404"] = problem("No such connection");
    responses["503"] = {
      ...problem("The database is not answering; retry after the Retry-After header's seconds"),
      headers: { "Retry-After": { schema: { type: "integer" } } },
    };
    for (const other of definition.otherResponses ?? []) {
      responses[String(other.status)] = {
        description: other.description,
        content: { "application/json": { schema: jsonSchema(other.schema, "output") } },
      };
    }
    paths[definition.path] ??= {};
    paths[definition.path]![definition.method.toLowerCase()] = {
      operationId,
      summary: definition.summary,
      ...(definition.access === "public" ? { security: [] } : {}),
      parameters: parameters(definition),
      ...(definition.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(definition.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Dialpad provisioning API",
      version: "1.0.0",
      description:
        "Everything the console does, for automation: connections, Test Connection, mappings and scoping filters, provisioning on demand, start/stop, status, provisioning logs and the audit log. Authenticate with an Entra ID access token for the API (roles Provisioning.Admin or Provisioning.Reader).",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ entra: [] }],
    components: {
      securitySchemes: { entra: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { Problem: jsonSchema(ZProblem, "output") },
    },
    paths,
  };
}
