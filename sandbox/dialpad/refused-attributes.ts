import { badRequest } from "./errors";
import { parseAttributeName, parsePath, type AttrPath } from "./filter";
import { isObject, type Json, type JsonObject } from "./json";
import { parsePatchBody } from "./patch";
import { CORE_GROUP, CORE_USER } from "./urns";

/**
 * The `refuseAttributes` knob: the emulator plays a strict RFC 7644 server that does not support some
 * attributes. A write that touches one is refused as a whole with 400 (PATCH naming it in a path:
 * `invalidPath`; a body or value carrying it: `invalidValue`), and nothing of the request is applied.
 * Names are full (`urn:…:enterprise:2.0:User:officeName`, `urn:…:core:2.0:User:name.givenName`) or bare
 * core names (`title`, `name.givenName`), case-insensitive; a name without a sub-attribute covers all of
 * its sub-attributes.
 */
export class RefusedAttributes {
  private readonly entries: { schema?: string; attr: string; sub?: string }[];

  constructor(readonly names: readonly string[]) {
    this.entries = names.map((name) => {
      const path = parseAttributeName(name);
      return {
        ...(path.schema ? { schema: path.schema.toLowerCase() } : {}),
        attr: path.attr.toLowerCase(),
        ...(path.sub ? { sub: path.sub.toLowerCase() } : {}),
      };
    });
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether the attribute (or sub-attribute) of a schema is refused. */
  refuses(schema: string, attr: string, sub?: string): boolean {
    const lowerSchema = schema.toLowerCase();
    const isCore = lowerSchema === CORE_USER.toLowerCase() || lowerSchema === CORE_GROUP.toLowerCase();
    return this.entries.some(
      (entry) =>
        (entry.schema === undefined ? isCore : entry.schema === lowerSchema) &&
        entry.attr === attr.toLowerCase() &&
        (entry.sub === undefined || entry.sub === sub?.toLowerCase()),
    );
  }

  /** POST or PUT: every attribute the resource carries, at any level the schema has. */
  checkResource(coreSchema: string, body: unknown): void {
    if (this.isEmpty || !isObject(body)) return;
    for (const [key, value] of Object.entries(body)) {
      if (["schemas", "id", "meta"].includes(key.toLowerCase())) continue;
      if (key.toLowerCase().startsWith("urn:") && isObject(value)) {
        this.checkAttributes(key, value, "invalidValue");
        continue;
      }
      const path = parseAttributeName(key);
      this.checkNamed(path.schema ?? coreSchema, path.attr, path.sub, value, "invalidValue");
    }
  }

  /** PATCH: the paths of the operations (invalidPath) and the attributes inside their values (invalidValue). */
  checkPatch(coreSchema: string, body: unknown): void {
    if (this.isEmpty) return;
    for (const operation of parsePatchBody(body)) {
      if (operation.path) {
        this.checkPath(coreSchema, operation.path, operation.value);
        continue;
      }
      // A path-less add or replace: the value's keys are paths (or an extension's URN).
      if (!isObject(operation.value)) continue;
      for (const [key, value] of Object.entries(operation.value)) {
        if (key.toLowerCase() === "schemas") continue;
        this.checkPath(coreSchema, parsePath(key), value);
      }
    }
  }

  private checkPath(coreSchema: string, path: AttrPath, value: Json | undefined): void {
    const schema = path.schema ?? coreSchema;
    if (path.attr === "") {
      if (isObject(value)) this.checkAttributes(schema, value, "invalidValue");
      return;
    }
    if (this.refuses(schema, path.attr, path.sub)) throw refusal(schema, path.attr, path.sub, "invalidPath");
    if (!path.sub) this.checkSubAttributes(schema, path.attr, value, "invalidValue");
  }

  private checkAttributes(schema: string, object: JsonObject, scimType: "invalidValue"): void {
    for (const [attr, value] of Object.entries(object))
      this.checkNamed(schema, attr, undefined, value, scimType);
  }

  private checkNamed(
    schema: string,
    attr: string,
    sub: string | undefined,
    value: Json | undefined,
    scimType: "invalidValue",
  ): void {
    if (this.refuses(schema, attr, sub)) throw refusal(schema, attr, sub, scimType);
    if (!sub) this.checkSubAttributes(schema, attr, value, scimType);
  }

  private checkSubAttributes(
    schema: string,
    attr: string,
    value: Json | undefined,
    scimType: "invalidValue",
  ) {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!isObject(item)) continue;
      for (const sub of Object.keys(item))
        if (this.refuses(schema, attr, sub)) throw refusal(schema, attr, sub, scimType);
    }
  }
}

function refusal(
  schema: string,
  attr: string,
  sub: string | undefined,
  scimType: "invalidPath" | "invalidValue",
) {
  const name = `${schema}:${attr}${sub ? `.${sub}` : ""}`;
  return badRequest(
    scimType,
    scimType === "invalidPath"
      ? `The path '${name}' names an attribute this server does not support`
      : `The attribute '${name}' is not supported by this server`,
  );
}
