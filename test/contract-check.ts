import type { z } from "zod";

/**
 * Whether a real response body keeps its contract: every field has the declared type (zod's issues),
 * and no field is sent that the contract does not declare (z.object strips those silently, so they are
 * found by comparing the body with what parsing kept).
 */
export function contractViolations(schema: z.ZodType, body: unknown): string[] {
  const result = schema.safeParse(body);
  if (!result.success) {
    return result.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`);
  }
  return undeclaredFields(body, result.data, "");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function undeclaredFields(sent: unknown, kept: unknown, at: string): string[] {
  if (Array.isArray(sent) && Array.isArray(kept)) {
    return sent.flatMap((item, index) => undeclaredFields(item, kept[index], `${at}[${index}]`));
  }
  if (isRecord(sent) && isRecord(kept)) {
    return Object.keys(sent).flatMap((key) => {
      const path = at ? `${at}.${key}` : key;
      return key in kept
        ? undeclaredFields(sent[key], kept[key], path)
        : [`${path}: sent but not declared in the contract`];
    });
  }
  return [];
}
