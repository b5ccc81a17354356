import { parseDateTimeLoose, DateTimeFormatError } from "../datetime";
import { EntraDateTime, IGNORE_FLOW, toText, type EntraValue } from "../values";
import type { CallContext, EvaluatedArgument } from "./registry";

export function argumentAt(args: readonly EvaluatedArgument[], index: number): EvaluatedArgument | undefined {
  return args[index];
}

export function valueAt(args: readonly EvaluatedArgument[], index: number): EntraValue {
  return args[index]?.value ?? null;
}

export function isProvided(args: readonly EvaluatedArgument[], index: number): boolean {
  const argument = args[index];
  return argument !== undefined && !argument.omitted;
}

export function textAt(args: readonly EvaluatedArgument[], index: number): string | null {
  return toText(valueAt(args, index));
}

/**
 * Integers as VBA reads them: numbers, numeric strings and "&H" hexadecimal. Entra's numeric parameters
 * (Mid's start, Word's number...) come from literals or from string attributes, so both are accepted.
 */
export function parseInteger(value: EntraValue): bigint | null {
  if (value === null || value === IGNORE_FLOW) return null;
  if (Array.isArray(value)) return value.length === 0 ? null : parseInteger(value[0] ?? null);
  if (typeof value === "number") return Number.isFinite(value) ? BigInt(Math.trunc(value)) : null;
  if (typeof value === "boolean") return value ? -1n : 0n; // VBA's True is -1.
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (/^[+-]?\d+$/.test(text)) return BigInt(text);
  const hex = /^&H([0-9A-Fa-f]{1,16})$/.exec(text);
  if (hex) return BigInt.asIntN(64, BigInt(`0x${hex[1]}`));
  if (/^[+-]?\d*\.\d+$/.test(text)) return BigInt(Math.trunc(Number(text)));
  return null;
}

export function integerAt(
  args: readonly EvaluatedArgument[],
  index: number,
  name: string,
  context: CallContext,
): number | null {
  const value = valueAt(args, index);
  if (value === null) return null;
  const parsed = parseInteger(value);
  if (parsed === null)
    return context.fail(`${name} must be a whole number, got ${JSON.stringify(toText(value))}`);
  if (parsed > BigInt(Number.MAX_SAFE_INTEGER) || parsed < BigInt(Number.MIN_SAFE_INTEGER)) {
    context.fail(`${name} is out of range`);
  }
  return Number(parsed);
}

export function dateAt(
  args: readonly EvaluatedArgument[],
  index: number,
  name: string,
  context: CallContext,
): number | null {
  const value = valueAt(args, index);
  if (value === null) return null;
  const single = Array.isArray(value) ? (value[0] ?? null) : value;
  if (single === null) return null;
  if (single instanceof EntraDateTime) return single.epochMilliseconds;
  if (typeof single !== "string")
    return context.fail(`${name} must be a date, got ${JSON.stringify(toText(value))}`);
  try {
    return parseDateTimeLoose(single);
  } catch (error) {
    if (error instanceof DateTimeFormatError) return context.fail(`${name}: ${error.message}`);
    throw error;
  }
}
