import { AppError, type FieldError } from "./errors";

/** Media types a JSON request body may be sent as (RFC 8259; merge-patch for routes that declare it). */
export const JSON_MEDIA_TYPES = ["application/json"] as const;

/** Deeper JSON is no request a client of this API sends; walking it must not exhaust the stack. */
const MAX_JSON_DEPTH = 64;
/** Enough to show the pattern of a bad body without echoing all of it. */
const MAX_REPORTED_FIELDS = 20;

/**
 * Reads a JSON request body without ever holding more than `maxBytes` of it: a declared Content-Length
 * over the limit is refused before reading, and a body without one (chunked) is counted while it streams
 * and cut off at the limit. Only JSON media types are read (415 otherwise, so a form post or text is
 * never applied as settings), the bytes must be UTF-8, and strings that PostgreSQL or the target cannot
 * store (NUL, unpaired surrogates) are refused with their field paths. An empty body reads as `{}`.
 */
export async function readJsonBody(
  request: Request,
  options: { maxBytes: number; mediaTypes?: readonly string[] },
): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > options.maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(options.maxBytes);
  }
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const accepted = options.mediaTypes ?? JSON_MEDIA_TYPES;
  const bytes = await readLimited(request, options.maxBytes, accepted.includes(mediaType) ? undefined : 0);
  if (bytes === null) {
    throw new AppError(
      "unsupported_media_type",
      `Send the request body as ${accepted.join(" or ")}${mediaType ? `, not ${mediaType}` : " (Content-Type is missing)"}.`,
    );
  }
  if (bytes.length === 0) return {};
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("validation_failed", "The request body is not valid UTF-8.", [
      { field: "body", message: "not valid UTF-8" },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError("validation_failed", "The request body is not valid JSON.", [
      { field: "body", message: "not valid JSON" },
    ]);
  }
  rejectUnsafeStrings(value, "body");
  return value;
}

/**
 * The body's bytes, or null when it is not of an accepted type but has content (`allowedBytes` 0: only
 * an empty body is acceptable, as a bodiless POST from curl sends none and no Content-Type either).
 */
async function readLimited(
  request: Request,
  maxBytes: number,
  allowedBytes = maxBytes,
): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > allowedBytes) {
      await reader.cancel().catch(() => undefined);
      if (allowedBytes !== maxBytes) return null;
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(
    "payload_too_large",
    `The request body is larger than ${maxBytes.toLocaleString("en-US")} bytes (MAX_REQUEST_BODY_BYTES).`,
  );
}

/**
 * NUL cannot be stored in PostgreSQL text or jsonb, and a lone UTF-16 surrogate is no character at all
 * (it cannot be encoded as UTF-8 for SCIM or e-mail): both are refused here instead of failing later
 * with a 500. Keys are checked as well as values. Used for query strings too. Fields are named by their
 * path as zod names them (`settings.notificationEmail`, `source.displayName`); `root` names the whole value.
 */
export function rejectUnsafeStrings(value: unknown, root: string): void {
  const errors: FieldError[] = [];
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  while (pending.length > 0 && errors.length < MAX_REPORTED_FIELDS) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === "string") {
      const problem = stringProblem(current);
      if (problem) errors.push({ field: path || root, message: problem });
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) {
      errors.push({ field: path || root, message: `nested more than ${MAX_JSON_DEPTH} levels deep` });
      continue;
    }
    const entries = Array.isArray(current)
      ? current.map((item, index) => [String(index), item] as const)
      : Object.entries(current);
    for (const [key, item] of entries) {
      const itemPath = path ? `${path}.${key}` : key;
      const keyProblem = stringProblem(key);
      if (keyProblem) errors.push({ field: path || root, message: `a field name ${keyProblem}` });
      else pending.push({ value: item, path: itemPath, depth: depth + 1 });
    }
  }
  if (errors.length > 0) {
    throw new AppError(
      "validation_failed",
      errors.map((error) => `${error.field}: ${error.message}`).join("; "),
      errors,
    );
  }
}

// An unpaired high surrogate, or a low surrogate with no high one before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (\\u0000), which cannot be stored";
  if (LONE_SURROGATE.test(text)) return "contains an unpaired surrogate (invalid Unicode)";
  return null;
}
