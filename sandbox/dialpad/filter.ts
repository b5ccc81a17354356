import { ScimError, type ScimType } from "./errors";
import { getCI, isObject, type Json, type JsonObject } from "./json";
import { CORE_GROUP, CORE_USER, KNOWN_SCHEMAS } from "./urns";

/**
 * An attribute path (RFC 7644 §3.10): `[schemaUrn:]attr[.sub]` or `attr[valFilter][.sub]`.
 * `attr` is "" when the path names a whole extension (`urn:…:enterprise:2.0:User`).
 */
export interface AttrPath {
  schema?: string;
  attr: string;
  sub?: string;
  filter?: Filter;
}

export type CompValue = string | number | boolean | null;

export type Filter =
  { op: "eq"; path: AttrPath; value: CompValue } | { op: "and"; left: Filter; right: Filter };

const OTHER_OPERATORS = new Set(["ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"]);
const NAME_CHAR = /[A-Za-z0-9_$:.-]/;

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly errorType: ScimType,
  ) {}

  fail(detail: string): never {
    throw new ScimError(400, detail, this.errorType);
  }

  get done(): boolean {
    return this.pos >= this.src.length;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private skipWs(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  private word(): string {
    const start = this.pos;
    while (/[A-Za-z]/.test(this.peek() ?? "")) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** `and`-chains of `eq` comparisons, optionally parenthesised; `stop` ends a nested value filter. */
  filter(stop?: "]" | ")"): Filter {
    let left = this.atom();
    for (;;) {
      this.skipWs();
      if (this.done || this.peek() === stop) return left;
      const at = this.pos;
      const keyword = this.word().toLowerCase();
      if (keyword === "and") {
        left = { op: "and", left, right: this.atom() };
      } else if (keyword === "or") {
        this.fail("The 'or' operator is not supported; Dialpad supports only 'eq' and 'and'");
      } else {
        this.fail(`Unexpected text at position ${at + 1} in filter`);
      }
    }
  }

  private atom(): Filter {
    this.skipWs();
    if (this.peek() === "(") {
      this.pos++;
      const inner = this.filter(")");
      if (this.peek() !== ")") this.fail("Missing ')' in filter");
      this.pos++;
      return inner;
    }
    const path = this.attrPath(true);
    this.skipWs();
    const op = this.word().toLowerCase();
    if (op === "") this.fail(`Expected an operator after '${describe(path)}'`);
    if (op === "not") this.fail("The 'not' operator is not supported; Dialpad supports only 'eq' and 'and'");
    if (op !== "eq") {
      this.fail(
        OTHER_OPERATORS.has(op)
          ? `The '${op}' operator is not supported; Dialpad supports only 'eq' and 'and'`
          : `Unknown operator '${op}'`,
      );
    }
    this.skipWs();
    return { op: "eq", path, value: this.value() };
  }

  private value(): CompValue {
    if (this.peek() === '"') {
      const start = this.pos;
      this.pos++;
      while (!this.done && this.peek() !== '"') this.pos += this.peek() === "\\" ? 2 : 1;
      if (this.done) this.fail("Unterminated string in filter");
      this.pos++;
      try {
        // SCIM string literals are JSON strings (RFC 7644 §3.4.2.2), escapes included.
        return JSON.parse(this.src.slice(start, this.pos)) as string;
      } catch {
        this.fail("Invalid escape in filter string");
      }
    }
    const start = this.pos;
    while (!this.done && !/[\s)\]]/.test(this.peek() ?? "")) this.pos++;
    const raw = this.src.slice(start, this.pos);
    if (raw === "true") return true;
    if (raw === "false") return false;
    if (raw === "null") return null;
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw)) return Number(raw);
    return this.fail(
      raw === ""
        ? "Missing comparison value in filter"
        : `Comparison values must be quoted strings, got ${raw}`,
    );
  }

  attrPath(allowFilter: boolean): AttrPath {
    const start = this.pos;
    while (NAME_CHAR.test(this.peek() ?? "")) this.pos++;
    const raw = this.src.slice(start, this.pos);
    if (raw === "") this.fail(`Expected an attribute name at position ${start + 1}`);
    const path = splitName(raw, (d) => this.fail(d));
    if (this.peek() === "[") {
      if (!allowFilter || path.sub !== undefined || path.attr === "")
        this.fail(`Unexpected '[' after '${raw}'`);
      this.pos++;
      path.filter = this.filter("]");
      if (this.peek() !== "]") this.fail("Missing ']' in value filter");
      this.pos++;
      if (this.peek() === ".") {
        this.pos++;
        const subStart = this.pos;
        while (/[A-Za-z0-9_$-]/.test(this.peek() ?? "")) this.pos++;
        path.sub = this.src.slice(subStart, this.pos);
        if (path.sub === "") this.fail("Expected a sub-attribute after ']'");
      }
    }
    return path;
  }
}

function splitName(raw: string, fail: (detail: string) => never): AttrPath {
  let schema: string | undefined;
  let rest = raw;
  if (raw.toLowerCase().startsWith("urn:")) {
    const lower = raw.toLowerCase();
    const known = KNOWN_SCHEMAS.find(
      (s) => lower === s.toLowerCase() || lower.startsWith(`${s.toLowerCase()}:`),
    );
    if (known === undefined) fail(`Unknown schema in attribute '${raw}'`);
    rest = raw.slice(known.length + 1);
    if (known !== CORE_USER && known !== CORE_GROUP) schema = known;
    else if (rest === "") fail(`Attribute missing after '${known}'`);
  }
  const parts = rest === "" ? [""] : rest.split(".");
  if (parts.length > 2 || parts.some((p, i) => p === "" && !(i === 0 && parts.length === 1 && schema))) {
    fail(`Invalid attribute path '${raw}'`);
  }
  return { ...(schema ? { schema } : {}), attr: parts[0] ?? "", ...(parts[1] ? { sub: parts[1] } : {}) };
}

export function parseFilter(src: string): Filter {
  const parser = new Parser(src.trim(), "invalidFilter");
  if (src.trim() === "") parser.fail("The filter is empty");
  const filter = parser.filter();
  if (!parser.done) parser.fail("Unexpected text at the end of the filter");
  return filter;
}

/** A PATCH `path` (RFC 7644 §3.5.2): attrPath or valuePath, with an optional sub-attribute. */
export function parsePath(src: string): AttrPath {
  const parser = new Parser(src.trim(), "invalidPath");
  const path = parser.attrPath(true);
  if (!parser.done) parser.fail(`Invalid path '${src}'`);
  return path;
}

/** A name from `attributes` / `excludedAttributes` (no value filters there). */
export function parseAttributeName(src: string): AttrPath {
  const parser = new Parser(src.trim(), "invalidValue");
  const path = parser.attrPath(false);
  if (!parser.done) parser.fail(`Invalid attribute name '${src}'`);
  return path;
}

export function describe(path: AttrPath): string {
  const base = path.schema ? `${path.schema}:${path.attr}` : path.attr;
  return `${base}${path.filter ? "[…]" : ""}${path.sub ? `.${path.sub}` : ""}`;
}

/** Lower-cased `attr` or `attr.sub`, the key used for case-exactness decisions. */
export function qualifiedName(path: AttrPath, prefix = ""): string {
  return `${prefix}${path.attr}${path.sub ? `.${path.sub}` : ""}`.toLowerCase();
}

/** Every primitive value `path` selects in `resource`; complex multi-values stand for their `value` (RFC 7644 §3.4.2.2). */
export function selectValues(
  resource: JsonObject,
  path: AttrPath,
  caseExact: (name: string) => boolean,
): Json[] {
  const container = path.schema ? getCI(resource, path.schema) : resource;
  let value = getCI(container, path.attr);
  if (value === undefined) return [];
  if (path.filter) {
    const filter = path.filter;
    const prefix = `${path.attr}.`;
    value = (Array.isArray(value) ? value : [value]).filter(
      (el) => isObject(el) && matches(filter, el, caseExact, prefix),
    );
  }
  const items = Array.isArray(value) ? value : [value];
  const out: Json[] = [];
  for (const item of items) {
    const picked = path.sub ? getCI(item, path.sub) : isObject(item) ? getCI(item, "value") : item;
    if (picked === undefined) continue;
    if (Array.isArray(picked)) out.push(...picked);
    else out.push(picked);
  }
  return out;
}

export function matches(
  filter: Filter,
  resource: JsonObject,
  caseExact: (name: string) => boolean,
  prefix = "",
): boolean {
  if (filter.op === "and") {
    return (
      matches(filter.left, resource, caseExact, prefix) && matches(filter.right, resource, caseExact, prefix)
    );
  }
  const exact = caseExact(qualifiedName(filter.path, prefix));
  const target = filter.value;
  return selectValues(resource, filter.path, caseExact).some((v) => equalValues(v, target, exact));
}

export function equalValues(actual: Json, target: CompValue, caseExact: boolean): boolean {
  if (typeof actual === "string" && typeof target === "string") {
    return caseExact ? actual === target : actual.toLowerCase() === target.toLowerCase();
  }
  return actual === target;
}

/** The top-level `eq` clauses of an `and`-chain, used to pick an index. */
export function conjuncts(filter: Filter): Extract<Filter, { op: "eq" }>[] {
  return filter.op === "eq" ? [filter] : [...conjuncts(filter.left), ...conjuncts(filter.right)];
}
