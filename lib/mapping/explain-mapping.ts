import { explainExpression } from "./explain";
import type { TObjectMapping } from "./model";
import {
  desiredState,
  expressionFor,
  type ProvisioningOperation,
  type ProvisioningOptions,
} from "./resource";
import type { ExportedValue } from "./values";

export interface AttributeExplanation {
  target: string;
  type: string;
  /** The source attribute, constant or expression as configured. */
  source: string;
  apply: string;
  matchingPriority: number;
  /**
   * exports: the value is sent; null: the source is empty and no default applies, so nothing is sent;
   * ignored: IgnoreFlowIfNullOrEmpty dropped it; notOnUpdate: applied only during creation; error: the
   * expression fails for this object (Entra fails the object).
   */
  outcome: "exports" | "null" | "ignored" | "notOnUpdate" | "error";
  /** What is sent, "[Redact]" when the mapping redacts it. */
  value: ExportedValue | undefined;
  usedDefault: boolean;
  message?: string;
}

/**
 * Each attribute mapping of one object, evaluated against one source object, with what would flow and
 * why not when nothing does: the "Why?" view of one user. It reuses desiredState mapping by mapping, so
 * it cannot disagree with what a cycle exports.
 */
export function explainObjectMapping(
  objectMapping: TObjectMapping,
  source: Readonly<Record<string, unknown>>,
  operation: ProvisioningOperation,
  options: ProvisioningOptions = {},
): AttributeExplanation[] {
  return objectMapping.attributeMappings.map((mapping): AttributeExplanation => {
    const base = {
      target: mapping.target,
      type: mapping.type,
      source: mapping.source,
      apply: mapping.apply,
      matchingPriority: mapping.matchingPriority,
    };
    if (operation === "update" && (mapping.apply === "OnlyDuringCreation" || mapping.type === "None"))
      return { ...base, outcome: "notOnUpdate", value: undefined, usedDefault: false };
    const only: TObjectMapping = { ...objectMapping, attributeMappings: [mapping] };
    const { attributes, problems } = desiredState(only, source, operation, options);
    const problem = problems[0];
    if (problem)
      return { ...base, outcome: "error", value: undefined, usedDefault: false, message: problem.message };
    const attribute = attributes[0];
    if (attribute) {
      const expression = expressionFor(mapping);
      const raw = expression === null ? mapping.source : explainExpression(expression, source, options);
      const usedDefault =
        typeof raw === "object" && raw.ok && raw.value === null && mapping.defaultValue !== null;
      return {
        ...base,
        outcome: "exports",
        value: attribute.redacted ? "[Redact]" : attribute.value,
        usedDefault,
      };
    }
    const expression = expressionFor(mapping);
    const explained = expression === null ? null : explainExpression(expression, source, options);
    const ignored = explained?.ok === true && !explained.flows;
    return { ...base, outcome: ignored ? "ignored" : "null", value: undefined, usedDefault: false };
  });
}
