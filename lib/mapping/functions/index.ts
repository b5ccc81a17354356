import { DATE_FUNCTIONS } from "./dates";
import { ENCODING_FUNCTIONS } from "./encoding";
import { LOGIC_FUNCTIONS } from "./logic";
import { MULTI_VALUED_FUNCTIONS } from "./multivalued";
import type { FunctionSpec } from "./registry";
import { REPLACE_FUNCTIONS } from "./replace";
import { TEXT_FUNCTIONS } from "./text";

/** Every function Entra's expression language offers, by exact (case-sensitive) name. */
export const FUNCTION_REGISTRY: ReadonlyMap<string, FunctionSpec> = new Map(
  [
    ...TEXT_FUNCTIONS,
    ...ENCODING_FUNCTIONS,
    ...DATE_FUNCTIONS,
    ...LOGIC_FUNCTIONS,
    ...MULTI_VALUED_FUNCTIONS,
    ...REPLACE_FUNCTIONS,
  ]
    .sort((a, b) => a.name.localeCompare(b.name, "en"))
    .map((spec) => [spec.name, spec]),
);

export function lookupFunction(name: string): FunctionSpec | undefined {
  return FUNCTION_REGISTRY.get(name);
}

export * from "./registry";
