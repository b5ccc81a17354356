import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { buildOpenApiDocument } from "./openapi";

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Every route file under app/api, with the HTTP methods it exports, as OpenAPI paths. */
async function implementedRoutes(): Promise<string[]> {
  const root = path.resolve("app/api");
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") files.push(full);
    }
  };
  walk(root);
  const routes: string[] = [];
  for (const file of files) {
    const route = "/api/" + path.relative(root, path.dirname(file)).replace(/\[(\w+)\]/g, "{$1}");
    if (route === "/api/openapi.json") continue;
    const source = fs.readFileSync(file, "utf8");
    for (const method of HTTP_METHODS) {
      if (new RegExp(`export (const|async function|function) ${method}\\b`).test(source))
        routes.push(`${method} ${route}`);
    }
  }
  return routes.sort();
}

test("the OpenAPI document lists every implemented route and nothing else", async () => {
  const document = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(document.paths)
    .flatMap(([route, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${route}`),
    )
    .sort();
  expect(documented).toEqual(await implementedRoutes());
});

test("the document is OpenAPI 3.1 with unique operation ids, declared path parameters and problem responses", () => {
  const document = buildOpenApiDocument("https://provisioning.contoso.example") as {
    openapi: string;
    servers: { url: string }[];
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string;
          parameters: { name: string; in: string }[];
          responses: Record<string, unknown>;
        }
      >
    >;
  };
  expect(document.openapi).toBe("3.1.0");
  expect(document.servers[0]?.url).toBe("https://provisioning.contoso.example");
  const ids = new Set<string>();
  for (const [route, operations] of Object.entries(document.paths)) {
    const pathParams = [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
    for (const operation of Object.values(operations)) {
      expect(ids.has(operation.operationId)).toBe(false);
      ids.add(operation.operationId);
      const declared = operation.parameters
        .filter((parameter) => parameter.in === "path")
        .map((parameter) => parameter.name);
      expect(declared.sort()).toEqual([...pathParams].sort());
    }
  }
  const patch = document.paths["/api/connections/{connectionId}"]!.patch!;
  expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404", "422"]));
  expect(JSON.stringify(patch)).toContain("secretToken");
});

test("the settings contract documents the deletion safety settings with their limits", () => {
  const document = buildOpenApiDocument() as {
    paths: Record<
      string,
      Record<
        string,
        { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }
      >
    >;
  };
  const body =
    document.paths["/api/connections/{connectionId}"]!.patch!.requestBody.content["application/json"]!;
  const settings = body.schema.properties.settings as { properties: Record<string, unknown> };
  expect(settings.properties.skipOutOfScopeDeletions).toEqual({ type: "boolean" });
  expect(settings.properties.sourceShrinkPercent).toEqual({ type: "integer", minimum: 1, maximum: 100 });
});

test("every operation documents its success body and its problem bodies with a schema", () => {
  const document = buildOpenApiDocument() as {
    components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> };
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string;
          responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
        }
      >
    >;
  };
  expect(document.components.schemas.Problem?.required).toEqual(["type", "title", "status"]);
  expect(Object.keys(document.components.schemas.Problem?.properties ?? {})).toEqual(
    expect.arrayContaining(["type", "title", "status", "detail", "instance", "errors"]),
  );
  const undocumented: string[] = [];
  for (const [route, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${route}`;
      const successes = Object.entries(operation.responses).filter(([status]) => status.startsWith("2"));
      if (successes.length !== 1) undocumented.push(`${name}: ${successes.length} success responses`);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status === "204") {
          if (response.content) undocumented.push(`${name} ${status}: No Content with a body`);
          continue;
        }
        const media = Object.values(response.content ?? {});
        if (media.length === 0 || media.some((entry) => Object.keys(entry.schema).length === 0))
          undocumented.push(`${name} ${status}: no schema`);
        if (
          status.startsWith("4") &&
          !JSON.stringify(response.content).includes("#/components/schemas/Problem")
        )
          undocumented.push(`${name} ${status}: not a problem body`);
      }
    }
  }
  expect(undocumented).toEqual([]);
});

test("response schemas describe what the server sends: the connection's secrets as status, never values", () => {
  const document = buildOpenApiDocument() as {
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
    >;
  };
  const schema = document.paths["/api/connections/{connectionId}"]!.get!.responses["200"]!.content[
    "application/json"
  ]!.schema as { properties: Record<string, { properties?: Record<string, unknown> }>; required: string[] };
  expect(schema.required).toEqual(
    expect.arrayContaining(["id", "version", "secretToken", "graph", "webhook"]),
  );
  expect(Object.keys(schema.properties.secretToken?.properties ?? {}).sort()).toEqual(
    ["expiresAt", "expiresSoon", "isExpired", "isSet", "last4", "updatedAt"].sort(),
  );
});
