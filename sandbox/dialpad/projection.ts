import { parseAttributeName, type AttrPath } from "./filter";
import { findKey, getCI, isObject, type Json, type JsonObject } from "./json";

/** The `attributes` / `excludedAttributes` query parameters (RFC 7644 §3.4.2.5). */
export interface Projection {
  attributes?: AttrPath[];
  excluded?: AttrPath[];
}

function parseList(raw: string | null | undefined): AttrPath[] | undefined {
  if (raw === null || raw === undefined || raw.trim() === "") return undefined;
  return raw.split(",").map((name) => parseAttributeName(name));
}

export function parseProjection(
  attributes: string | null | undefined,
  excluded: string | null | undefined,
): Projection {
  const p: Projection = {};
  const a = parseList(attributes);
  const e = parseList(excluded);
  if (a) p.attributes = a;
  if (e) p.excluded = e;
  return p;
}

export function isEmpty(p: Projection): boolean {
  return p.attributes === undefined && p.excluded === undefined;
}

/** Whether the top-level attribute `name` survives the projection (lets callers skip building it). */
export function includes(p: Projection, name: string): boolean {
  const lower = name.toLowerCase();
  const named = (list: AttrPath[]) => list.some((a) => !a.schema && a.attr.toLowerCase() === lower);
  const whole = (list: AttrPath[]) => list.some((a) => !a.schema && a.attr.toLowerCase() === lower && !a.sub);
  if (p.attributes) return named(p.attributes);
  if (p.excluded) return !whole(p.excluded);
  return true;
}

// RFC 7643 §7: "returned: always" attributes cannot be left out.
const ALWAYS = new Set(["id", "schemas"]);

export function project(resource: JsonObject, p: Projection): JsonObject {
  if (p.attributes) {
    const out: JsonObject = {};
    for (const k of Object.keys(resource)) if (ALWAYS.has(k)) out[k] = resource[k] ?? null;
    for (const path of p.attributes) copyPath(resource, out, path);
    return out;
  }
  if (p.excluded) {
    const out = structuredClone(resource);
    for (const path of p.excluded) removePath(out, path);
    return out;
  }
  return resource;
}

function copyPath(from: JsonObject, to: JsonObject, path: AttrPath): void {
  let source: Json | undefined = from;
  let target = to;
  if (path.schema) {
    const key = findKey(from, path.schema);
    if (key === undefined) return;
    source = from[key];
    if (path.attr === "") {
      to[key] = structuredClone(source ?? null);
      return;
    }
    if (!isObject(source)) return;
    const ext = isObject(to[key]) ? (to[key] as JsonObject) : {};
    to[key] = ext;
    target = ext;
  }
  if (!isObject(source)) return;
  const key = findKey(source, path.attr);
  if (key === undefined) return;
  const value = source[key];
  if (value === undefined) return;
  if (!path.sub) {
    target[key] = structuredClone(value);
    return;
  }
  const sub = path.sub;
  if (Array.isArray(value)) {
    target[key] = value.filter(isObject).map((el) => pick(el, sub));
  } else if (isObject(value)) {
    const existing = isObject(target[key]) ? (target[key] as JsonObject) : {};
    target[key] = { ...existing, ...pick(value, sub) };
  }
}

function pick(obj: JsonObject, sub: string): JsonObject {
  const key = findKey(obj, sub);
  return key === undefined ? {} : { [key]: structuredClone(obj[key] ?? null) };
}

function removePath(obj: JsonObject, path: AttrPath): void {
  let container: Json | undefined = obj;
  if (path.schema) {
    if (path.attr === "") {
      const key = findKey(obj, path.schema);
      if (key !== undefined) delete obj[key];
      return;
    }
    container = getCI(obj, path.schema);
  }
  if (!isObject(container)) return;
  const key = findKey(container, path.attr);
  if (key === undefined || (!path.schema && ALWAYS.has(key))) return;
  if (!path.sub) {
    delete container[key];
    return;
  }
  const value = container[key];
  const sub = path.sub;
  for (const el of Array.isArray(value) ? value : [value]) {
    if (!isObject(el)) continue;
    const subKey = findKey(el, sub);
    if (subKey !== undefined) delete el[subKey];
  }
}
