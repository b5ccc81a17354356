/**
 * The subset of OData query options Microsoft Graph accepts on directory objects, with Graph's
 * error codes and messages for what it refuses. Kept separate from routing so the parsing rules can
 * be tested without HTTP.
 */

export class GraphRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GraphRequestError";
  }
}

export type PropertyType = "string" | "boolean" | "stringCollection" | "datetime" | "guid";

export interface ResourceSpec {
  /** OData type name, e.g. "microsoft.graph.user". */
  typeName: string;
  /** Resource name used in Graph's filter error messages, e.g. "User". */
  resourceName: string;
  properties: Record<string, PropertyType>;
  /** Properties returned when no $select is given. */
  defaultSelect: readonly string[];
  /** Properties usable with `eq` in $filter without advanced query parameters. */
  filterEq: ReadonlySet<string>;
  /** Properties usable with startswith() in $filter. */
  filterStartsWith: ReadonlySet<string>;
  /** Properties usable in $search="prop:value". */
  search: ReadonlySet<string>;
}

export type Predicate = (object: Record<string, unknown>) => boolean;

/** $select: property names, validated against the resource; `id` is always added. */
export function parseSelect(
  raw: string | undefined,
  spec: ResourceSpec,
  extra: readonly string[] = [],
): string[] | null {
  if (raw === undefined) return null;
  const names = raw
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0)
    throw new GraphRequestError(400, "BadRequest", "Invalid $select: the list of properties is empty.");
  const result: string[] = [];
  for (const name of names) {
    if (name === "*") {
      for (const property of Object.keys(spec.properties))
        if (!result.includes(property)) result.push(property);
      continue;
    }
    // Graph matches property names case-insensitively and answers with the canonical spelling.
    const canonical =
      Object.keys(spec.properties).find((p) => p.toLowerCase() === name.toLowerCase()) ??
      extra.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!canonical) {
      throw new GraphRequestError(
        400,
        "BadRequest",
        `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type '${spec.typeName}'.`,
      );
    }
    if (!result.includes(canonical)) result.push(canonical);
  }
  if (!result.includes("id")) result.push("id");
  return result;
}

export function parseTop(raw: string | undefined, max = 999): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `Invalid value '${raw}' for $top query option found. The $top query option requires a non-negative integer value.`,
    );
  }
  const value = Number(raw);
  if (value < 1 || value > max) {
    throw new GraphRequestError(
      400,
      "Request_UnsupportedQuery",
      `Invalid page size specified: '${value}'. Must be between 1 and ${max} inclusive.`,
    );
  }
  return value;
}

// ---------- $filter ----------

type Token =
  | { kind: "ident"; value: string; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "punct"; value: "(" | ")" | "," | ":"; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "(" || ch === ")" || ch === "," || ch === ":") {
      tokens.push({ kind: "punct", value: ch, at: i });
      i++;
    } else if (ch === "'") {
      let value = "";
      const start = i;
      i++;
      for (;;) {
        if (i >= text.length) throw invalidFilter(`unterminated string literal at position ${start}`);
        if (text[i] === "'") {
          // OData escapes a quote inside a literal by doubling it: 'O''Brien'.
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: "string", value, at: start });
    } else if (/[A-Za-z0-9_./-]/.test(ch)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_./-]/.test(text[i]!)) i++;
      tokens.push({ kind: "ident", value: text.slice(start, i), at: start });
    } else {
      throw invalidFilter(`syntax error at position ${i} in '${text}'`);
    }
  }
  return tokens;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalidFilter(detail: string): GraphRequestError {
  return new GraphRequestError(400, "BadRequest", `Invalid filter clause: ${detail}.`);
}

function unsupportedFilter(property: string, spec: ResourceSpec): GraphRequestError {
  return new GraphRequestError(
    400,
    "Request_UnsupportedQuery",
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${spec.resourceName}'.`,
  );
}

function canonicalProperty(name: string, spec: ResourceSpec): string {
  const canonical = Object.keys(spec.properties).find((p) => p.toLowerCase() === name.toLowerCase());
  if (!canonical) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `Could not find a property named '${name}' on type '${spec.typeName}'.`,
    );
  }
  return canonical;
}

/** Directory string comparisons are case-insensitive. */
function fold(value: unknown): string | null {
  return typeof value === "string" ? value.toLowerCase() : null;
}

/**
 * $filter with `eq`, `startswith(prop,'x')`, `and`, `or` and parentheses: what Graph supports on
 * users and groups without advanced query parameters.
 */
export function parseFilter(raw: string, spec: ResourceSpec): Predicate {
  const tokens = tokenize(raw);
  let pos = 0;
  const peek = () => tokens[pos];
  const isKeyword = (token: Token | undefined, word: string) =>
    token?.kind === "ident" && token.value.toLowerCase() === word;
  const expectPunct = (value: string) => {
    const token = tokens[pos];
    if (token?.kind !== "punct" || token.value !== value) {
      throw invalidFilter(`expected '${value}' at position ${token?.at ?? raw.length} in '${raw}'`);
    }
    pos++;
  };

  const parseOr = (): Predicate => {
    const parts = [parseAnd()];
    while (isKeyword(peek(), "or")) {
      pos++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (o) => parts.some((p) => p(o));
  };
  const parseAnd = (): Predicate => {
    const parts = [parsePrimary()];
    while (isKeyword(peek(), "and")) {
      pos++;
      parts.push(parsePrimary());
    }
    return parts.length === 1 ? parts[0]! : (o) => parts.every((p) => p(o));
  };
  const parsePrimary = (): Predicate => {
    const token = tokens[pos];
    if (!token) throw invalidFilter(`unexpected end of expression in '${raw}'`);
    if (token.kind === "punct" && token.value === "(") {
      pos++;
      const inner = parseOr();
      expectPunct(")");
      return inner;
    }
    if (token.kind !== "ident") throw invalidFilter(`syntax error at position ${token.at} in '${raw}'`);
    const word = token.value.toLowerCase();
    if (
      (word === "startswith" || word === "endswith" || word === "contains") &&
      tokens[pos + 1]?.kind === "punct"
    ) {
      pos++;
      expectPunct("(");
      const propToken = tokens[pos++];
      if (propToken?.kind !== "ident") throw invalidFilter(`expected a property name in '${raw}'`);
      const property = canonicalProperty(propToken.value, spec);
      expectPunct(",");
      const literal = tokens[pos++];
      if (literal?.kind !== "string") throw invalidFilter(`expected a string literal in '${raw}'`);
      expectPunct(")");
      // endswith/contains need advanced queries (ConsistencyLevel + $count) that the emulator does not model.
      if (word !== "startswith" || !spec.filterStartsWith.has(property))
        throw unsupportedFilter(property, spec);
      const prefix = literal.value.toLowerCase();
      return (o) => fold(o[property])?.startsWith(prefix) ?? false;
    }
    if (word === "not") throw new GraphRequestError(400, "Request_UnsupportedQuery", "Unsupported Query.");
    // property eq literal
    pos++;
    const property = canonicalProperty(token.value, spec);
    const operator = tokens[pos++];
    if (operator?.kind !== "ident")
      throw invalidFilter(`expected an operator after '${token.value}' in '${raw}'`);
    const op = operator.value.toLowerCase();
    if (!["eq", "ne", "gt", "ge", "lt", "le"].includes(op))
      throw invalidFilter(`unknown operator '${operator.value}' in '${raw}'`);
    const literal = tokens[pos++];
    if (!literal) throw invalidFilter(`expected a value after '${operator.value}' in '${raw}'`);
    if (op !== "eq" || !spec.filterEq.has(property)) throw unsupportedFilter(property, spec);
    const type = spec.properties[property];
    if (type === "boolean") {
      if (literal.kind !== "ident" || !["true", "false"].includes(literal.value.toLowerCase())) {
        throw invalidFilter(`a boolean literal is required for '${property}' in '${raw}'`);
      }
      const expected = literal.value.toLowerCase() === "true";
      return (o) => o[property] === expected;
    }
    if (literal.kind === "ident" && literal.value === "null")
      return (o) => o[property] === null || o[property] === undefined;
    if (type === "guid") {
      // Edm.Guid literals are written bare; a quoted one is a string, which Graph refuses to compare.
      if (literal.kind !== "ident" || !GUID.test(literal.value))
        throw invalidFilter(
          `A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal' ('${property}' in '${raw}')`,
        );
      const expected = literal.value.toLowerCase();
      return (o) => fold(o[property]) === expected;
    }
    if (literal.kind !== "string")
      throw invalidFilter(`a string literal is required for '${property}' in '${raw}'`);
    const expected = literal.value.toLowerCase();
    return (o) => fold(o[property]) === expected;
  };

  const predicate = parseOr();
  if (pos < tokens.length) throw invalidFilter(`syntax error at position ${tokens[pos]!.at} in '${raw}'`);
  return predicate;
}

// ---------- $search ----------

function words(value: unknown): string[] {
  return typeof value === "string"
    ? value
        .toLowerCase()
        .split(/[\s.,;:_@'"()/-]+/)
        .filter(Boolean)
    : [];
}

/**
 * $search="displayName:al" on directory objects is tokenized prefix matching: every word of the
 * term must be the start of some word of the property. Clauses combine with AND / OR.
 */
export function parseSearch(raw: string, spec: ResourceSpec): Predicate {
  const clauses: { op: "AND" | "OR"; predicate: Predicate }[] = [];
  const pattern = /\s*(?:(AND|OR)\s+)?"([^"]*)"\s*/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(raw)) !== null) {
    consumed = pattern.lastIndex;
    const op = (match[1] ?? "AND") as "AND" | "OR";
    if (clauses.length === 0 && match[1]) break;
    const body = match[2]!;
    const colon = body.indexOf(":");
    if (colon <= 0) {
      throw new GraphRequestError(
        400,
        "Request_UnsupportedQuery",
        `Invalid $search clause '"${body}"': use "property:value".`,
      );
    }
    const name = body.slice(0, colon).trim();
    const property = Object.keys(spec.properties).find((p) => p.toLowerCase() === name.toLowerCase());
    if (!property || !spec.search.has(property)) {
      throw new GraphRequestError(
        400,
        "Request_UnsupportedQuery",
        `Unsupported or invalid query search clause specified for property '${name}' of resource '${spec.resourceName}'.`,
      );
    }
    const terms = words(body.slice(colon + 1));
    clauses.push({
      op,
      predicate: (o) => {
        const have = words(o[property]);
        return terms.every((term) => have.some((word) => word.startsWith(term)));
      },
    });
    if (pattern.lastIndex >= raw.length) break;
  }
  if (clauses.length === 0 || consumed < raw.length) {
    throw new GraphRequestError(
      400,
      "BadRequest",
      `Syntax error in $search query '${raw}': terms must be quoted, e.g. $search="displayName:contoso".`,
    );
  }
  return (o) => {
    let result = clauses[0]!.predicate(o);
    for (const clause of clauses.slice(1)) {
      result = clause.op === "AND" ? result && clause.predicate(o) : result || clause.predicate(o);
    }
    return result;
  };
}
