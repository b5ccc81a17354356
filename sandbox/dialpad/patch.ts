import { badRequest } from "./errors";
import { describe, matches, parsePath, type AttrPath, type Filter } from "./filter";
import { deepEqual, findKey, getCI, isObject, type Json, type JsonObject } from "./json";
import { attributeDef, subAttributeDef } from "./schemas";
import { CORE_USER, PATCH_OP } from "./urns";

export type PatchOpName = "add" | "replace" | "remove";

export interface PatchOperation {
  op: PatchOpName;
  path?: AttrPath;
  /** The path as sent, for error messages and for resources that interpret paths themselves. */
  rawPath?: string;
  value?: Json;
}

/** Validates an RFC 7644 §3.5.2 PatchOp body; op names are case-insensitive because Entra sends `Replace`. */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest("invalidSyntax", "The PATCH body must be a JSON object");
  const schemas = getCI(body, "schemas");
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP)) {
    throw badRequest("invalidSyntax", `The PATCH body must list the schema ${PATCH_OP}`);
  }
  const operations = getCI(body, "Operations");
  if (!Array.isArray(operations) || operations.length === 0) {
    throw badRequest("invalidSyntax", "The PATCH body must have a non-empty 'Operations' array");
  }
  return operations.map((raw, index) => {
    if (!isObject(raw)) throw badRequest("invalidSyntax", `Operation ${index + 1} is not an object`);
    const op = getCI(raw, "op");
    const name = typeof op === "string" ? op.toLowerCase() : "";
    if (name !== "add" && name !== "replace" && name !== "remove") {
      throw badRequest(
        "invalidSyntax",
        `Operation ${index + 1} has an unknown op ${JSON.stringify(op ?? null)}`,
      );
    }
    const path = getCI(raw, "path");
    if (path !== undefined && path !== null && typeof path !== "string") {
      throw badRequest("invalidPath", `Operation ${index + 1} has a non-string path`);
    }
    const value = getCI(raw, "value");
    if (name === "remove" && (path === undefined || path === null || path === "")) {
      throw badRequest("noTarget", `Operation ${index + 1}: 'remove' requires a path`);
    }
    if (name !== "remove" && value === undefined) {
      throw badRequest("invalidValue", `Operation ${index + 1}: '${name}' requires a value`);
    }
    const hasPath = typeof path === "string" && path !== "";
    return {
      op: name,
      ...(hasPath ? { path: parsePath(path), rawPath: path } : {}),
      ...(value !== undefined ? { value } : {}),
    };
  });
}

/**
 * Applies one operation to a JSON resource following RFC 7644 §3.5.2, including a path-less
 * `replace`/`add` whose value keys are themselves paths (`"name.givenName"`), which Entra sends in
 * its `aadOptscim062020` mode.
 */
export function applyOperation(
  resource: JsonObject,
  op: PatchOpName,
  path: AttrPath | undefined,
  value: Json | undefined,
  caseExact: (name: string) => boolean,
): void {
  if (path === undefined) {
    if (!isObject(value)) throw badRequest("invalidValue", `'${op}' without a path needs an object value`);
    for (const [key, v] of Object.entries(value)) {
      if (key.toLowerCase() === "schemas") continue;
      applyOperation(resource, op, parsePath(key), v, caseExact);
    }
    return;
  }
  const schemaId = path.schema ?? CORE_USER;

  if (path.attr === "") {
    // The whole extension object: apply each of its attributes in turn.
    if (op === "remove") {
      deleteKey(resource, schemaId);
      return;
    }
    if (!isObject(value)) throw badRequest("invalidValue", `'${schemaId}' needs an object value`);
    for (const [key, v] of Object.entries(value))
      applyOperation(resource, op, parsePath(`${schemaId}:${key}`), v, caseExact);
    return;
  }

  let container: JsonObject;
  if (path.schema) {
    const existing = getCI(resource, path.schema);
    if (!isObject(existing)) {
      if (op === "remove") return;
      container = {};
      resource[findKey(resource, path.schema) ?? path.schema] = container;
    } else {
      container = existing;
    }
  } else {
    container = resource;
  }

  const adef = attributeDef(schemaId, path.attr);
  const key = findKey(container, path.attr) ?? adef?.name ?? path.attr;
  const current = container[key];
  const multiValued = adef?.multiValued ?? Array.isArray(current);
  const subName = (sub: string) => subAttributeDef(adef, sub)?.name ?? sub;

  if (path.filter) {
    if (!multiValued)
      throw badRequest("invalidPath", `'${describe(path)}': value filters need a multi-valued attribute`);
    const list: Json[] = Array.isArray(current) ? current : [];
    const filter = path.filter;
    const hits = list.filter(
      (el): el is JsonObject => isObject(el) && matches(filter, el, caseExact, `${key}.`),
    );
    if (op === "remove") {
      if (path.sub) for (const el of hits) deleteKey(el, path.sub);
      const kept = path.sub ? list : list.filter((el) => !hits.includes(el as JsonObject));
      setOrDelete(container, key, kept.length > 0 ? kept : undefined);
      return;
    }
    if (hits.length === 0) {
      // RFC 7644 §3.5.2.3: replace with an unmatched value filter fails with noTarget; add creates the value.
      if (op === "replace")
        throw badRequest("noTarget", `No value of '${key}' matches the filter in '${describe(path)}'`);
      const seeded = seedFromFilter(filter, path);
      if (path.sub) seeded[subName(path.sub)] = value ?? null;
      else if (isObject(value)) Object.assign(seeded, value);
      else throw badRequest("invalidValue", `'${describe(path)}' needs an object value`);
      container[key] = [...list, seeded];
      return;
    }
    for (const el of hits) {
      if (path.sub) setOrDelete(el, findKey(el, path.sub) ?? subName(path.sub), value);
      else if (!isObject(value))
        throw badRequest("invalidValue", `'${describe(path)}' needs an object value`);
      else if (op === "replace") list[list.indexOf(el)] = value;
      else Object.assign(el, value);
    }
    container[key] = list;
    return;
  }

  if (path.sub) {
    const sub = path.sub;
    const targets = Array.isArray(current) ? current.filter(isObject) : isObject(current) ? [current] : [];
    if (op === "remove") {
      for (const el of targets) deleteKey(el, sub);
      if (isObject(current) && Object.keys(current).length === 0) delete container[key];
      return;
    }
    if (Array.isArray(current)) {
      // `emails.value` without a filter would set every email to the same value; RFC 7644 leaves this to the server.
      throw badRequest(
        "invalidPath",
        `'${describe(path)}' is ambiguous on a multi-valued attribute; use a value filter`,
      );
    }
    const obj = isObject(current) ? current : {};
    setOrDelete(obj, findKey(obj, sub) ?? subName(sub), value);
    container[key] = obj;
    return;
  }

  if (op === "remove") {
    if (value !== undefined && value !== null && Array.isArray(current)) {
      // Entra's default member/value removal: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`.
      const victims = Array.isArray(value) ? value : [value];
      const kept = current.filter((el) => !victims.some((v) => sameValue(el, v)));
      setOrDelete(container, key, kept.length > 0 ? kept : undefined);
    } else {
      delete container[key];
    }
    return;
  }
  if (multiValued) {
    const incoming = value === null ? [] : Array.isArray(value) ? value : [value ?? null];
    if (op === "replace") {
      setOrDelete(container, key, incoming.length > 0 ? incoming : undefined);
      return;
    }
    const list: Json[] = Array.isArray(current) ? [...current] : current === undefined ? [] : [current];
    for (const v of incoming) if (!list.some((el) => deepEqual(el, v))) list.push(v);
    container[key] = list;
    return;
  }
  if (isObject(current) && isObject(value)) {
    // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not given are left unchanged.
    for (const [k, v] of Object.entries(value)) setOrDelete(current, findKey(current, k) ?? subName(k), v);
    return;
  }
  setOrDelete(container, key, value);
}

function seedFromFilter(filter: Filter, path: AttrPath): JsonObject {
  if (filter.op === "and")
    return { ...seedFromFilter(filter.left, path), ...seedFromFilter(filter.right, path) };
  if (filter.path.sub || filter.path.filter || filter.path.schema) {
    throw badRequest("noTarget", `Cannot add through the filter in '${describe(path)}'`);
  }
  const sub = subAttributeDef(attributeDef(path.schema ?? CORE_USER, path.attr), filter.path.attr)?.name;
  return { [sub ?? filter.path.attr]: filter.value };
}

function sameValue(element: Json, victim: Json): boolean {
  if (isObject(element) && isObject(victim)) {
    const a = getCI(element, "value");
    const b = getCI(victim, "value");
    if (a !== undefined && b !== undefined) return a === b;
  }
  return deepEqual(element, victim);
}

/** RFC 7643 §2.5: null is the same as unassigned. */
function setOrDelete(obj: JsonObject, key: string, value: Json | undefined): void {
  if (value === undefined || value === null) delete obj[key];
  else obj[key] = value;
}

function deleteKey(obj: JsonObject, name: string): void {
  const key = findKey(obj, name);
  if (key !== undefined) delete obj[key];
}
