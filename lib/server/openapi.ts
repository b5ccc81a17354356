import { z } from "zod";
import { API, type ApiDefinition } from "./api-definitions";

const PROBLEM_SCHEMA = {
  type: "object",
  description: "RFC 9457 problem details",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    errors: {
      type: "array",
      items: {
        type: "object",
        properties: { field: { type: "string" }, message: { type: "string" } },
        required: ["field", "message"],
      },
    },
  },
  required: ["type", "title", "status"],
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // Input shape: what a client sends (defaults optional, coercions accept strings).
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
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
      [String(definition.success.status)]: {
        description: definition.success.description,
        ...(definition.success.status === 204
          ? {}
          : { content: { [definition.success.contentType ?? "application/json"]: { schema: {} } } }),
      },
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
      schemas: { Problem: PROBLEM_SCHEMA },
    },
    paths,
  };
}
