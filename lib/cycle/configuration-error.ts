import { GraphError } from "../graph";
import { PermanentJobError } from "../jobs/kind";
import { findUnknownSourceAttributes, type TMappingConfig } from "../mapping";

/** What the cycle's error object says about a configuration error (Cycle.error, the status API). */
export interface ConfigurationErrorJson {
  code: "ConfigurationError";
  category: "configuration";
  message: string;
  attribute: string;
  objectType: "users" | "groups";
  /** The mapping field that reads the attribute, when the cycle knows it. */
  field?: string;
  recommendedAction: string;
}

/**
 * The configuration cannot work (a mapping reads an attribute Graph does not have): every retry and every
 * cycle would fail the same way until an admin changes it, so the cycle fails at once and says what to fix.
 * Permanent, so the job store does not retry it.
 */
export class CycleConfigurationError extends PermanentJobError {
  readonly category = "configuration";

  constructor(
    readonly attribute: string,
    readonly objectType: "users" | "groups",
    readonly detail: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(`Configuration error: ${detail}`, options);
    this.name = "CycleConfigurationError";
  }

  get recommendedAction(): string {
    const mappings = this.objectType === "groups" ? "group mappings" : "user mappings";
    return `Fix the mapping of "${this.attribute}" in Mappings (${mappings}): use an attribute Microsoft Graph has, then save; the next cycle runs with the corrected mapping.`;
  }

  toJSON(): ConfigurationErrorJson {
    return {
      code: "ConfigurationError",
      category: "configuration",
      // code and category already say "configuration error"; the message says what is wrong.
      message: this.detail,
      attribute: this.attribute,
      objectType: this.objectType,
      ...(this.field ? { field: this.field } : {}),
      recommendedAction: this.recommendedAction,
    };
  }
}

/**
 * Checks the stored mapping before reading anything: a configuration saved before this check existed, or
 * written to the database by hand, must not reach Graph as a `$select` of a misspelled attribute.
 * Extension attributes are checked by their shape only; Graph's own answer covers the rest.
 */
export function checkMappingAttributes(config: TMappingConfig): CycleConfigurationError | null {
  // A disabled group mapping reads nothing, so it cannot fail the cycle.
  const [problem] = findUnknownSourceAttributes(config, null).filter(
    (candidate) => candidate.reference.objectType === "users" || config.groups.enabled,
  );
  if (!problem) return null;
  return new CycleConfigurationError(
    problem.reference.name,
    problem.reference.objectType,
    `${problem.field}: ${problem.message}`,
    problem.field,
  );
}

const UNKNOWN_PROPERTY = /Could not find a property named '([^']+)' on type 'microsoft\.graph\.(user|group)'/;

/**
 * A failure that is the configuration's fault, as a CycleConfigurationError; null for anything a retry
 * may fix. Graph answers 400 "Could not find a property named 'jobTitel' on type 'microsoft.graph.user'"
 * to a `$select` of an attribute it does not have (an extension removed from the tenant, say).
 */
export function asConfigurationError(error: unknown): CycleConfigurationError | null {
  if (error instanceof CycleConfigurationError) return error;
  if (!(error instanceof GraphError) || error.status !== 400) return null;
  const match = UNKNOWN_PROPERTY.exec(error.message);
  if (!match) return null;
  const [, attribute, type] = match;
  return new CycleConfigurationError(
    attribute!,
    type === "group" ? "groups" : "users",
    `Microsoft Graph has no attribute "${attribute}" on ${type}s (${error.code}: ${error.message})`,
    undefined,
    { cause: error },
  );
}
