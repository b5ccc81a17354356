/**
 * Secret scrubbing for everything the SCIM client hands out (errors, exchange records). The bearer token
 * is removed wherever it appears, because a misbehaving target can echo it back in an error body.
 */

const REDACTED = "[redacted]";
const SENSITIVE_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential/i;
const SENSITIVE_QUERY_PARAMS = ["apikey", "api_key", "access_token", "token"];

export function scrubText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    // Short strings would shred ordinary text; real tokens are long.
    if (secret.length >= 6) result = result.split(secret).join(REDACTED);
  }
  return result;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 20 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      SENSITIVE_KEY.test(key) && inner !== null && typeof inner !== "object"
        ? REDACTED
        : redactValue(inner, depth + 1);
  }
  return copy;
}

/** JSON text of a request/response body with password-like fields and the given secrets removed. */
export function redactBody(
  body: unknown,
  secrets: readonly string[],
  maxLength = 16_384,
): string | undefined {
  if (body === undefined) return undefined;
  let text: string;
  if (typeof body === "string") {
    try {
      text = JSON.stringify(redactValue(JSON.parse(body), 0));
    } catch {
      text = body;
    }
  } else {
    text = JSON.stringify(redactValue(body, 0)) ?? "";
  }
  const scrubbed = scrubText(text, secrets);
  return scrubbed.length > maxLength ? `${scrubbed.slice(0, maxLength)}…[truncated]` : scrubbed;
}

/** A URL safe to log: credentials-bearing query parameters and userinfo removed. */
export function redactUrl(url: string, secrets: readonly string[]): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    for (const name of [...parsed.searchParams.keys()]) {
      if (SENSITIVE_QUERY_PARAMS.includes(name.toLowerCase())) parsed.searchParams.set(name, REDACTED);
    }
    return scrubText(parsed.toString(), secrets);
  } catch {
    return scrubText(url, secrets);
  }
}
