import {
  buildCreateResource,
  buildPatch,
  desiredStateHash,
  matchingValues,
  sourceAttributesFor,
  type TMappingConfig,
} from "../mapping";
import { evaluateScope } from "../scoping";
import type { ScimPatchOperation, ScimResourceInput } from "../scim";
import type { ObjectMappingEngine } from "./ports";
import { mappingsWithout, type RefusalRegistry } from "./refusals";

/** An attribute mapping whose expression failed for this object; Entra fails (escrows) the object. */
export class MappingEvaluationError extends Error {
  constructor(readonly problems: { target: string; message: string }[]) {
    super(
      `Attribute mapping failed: ${problems.map((problem) => `${problem.target}: ${problem.message}`).join("; ")}`,
    );
    this.name = "MappingEvaluationError";
  }
}

/** The engine's view of one object mapping, backed by lib/mapping and lib/scoping. */
export function mappingEngineFor(
  config: TMappingConfig,
  objectType: "User" | "Group",
  options: {
    withoutReferences?: boolean;
    /** Target attributes Dialpad refuses (lib/sync/refusals.ts): not exported, hashed or compared. */
    refusals?: RefusalRegistry;
  } = {},
): ObjectMappingEngine {
  const kind = objectType === "User" ? "user" : "group";
  const fullMapping = objectType === "User" ? config.users : config.groups;
  // A cycle provisions group members in its references phase, after the users exist; the group's own
  // create, hash and PATCH must then ignore them, or every membership change would look like a rename.
  const exported = options.withoutReferences
    ? fullMapping.attributeMappings.filter((mapping) => !isReferenceMapping(mapping.target))
    : fullMapping.attributeMappings;
  const { refusals } = options;
  const objectMapping = {
    ...fullMapping,
    attributeMappings: refusals
      ? mappingsWithout(exported, (attribute) => refusals.isRefused(objectType, attribute))
      : exported,
  };
  const attributes = sourceAttributesFor(config, kind);
  return {
    sourceAttributes: () => attributes,
    scope: (source) => {
      const result = evaluateScope(objectMapping.scope, source);
      return {
        inScope: result.inScope,
        groups: result.groups.map((group) => ({
          name: group.name,
          matched: group.matched,
          clauses: group.clauses.map((clause) => ({
            attribute: clause.attribute,
            operator: clause.operator,
            values: clause.values,
            actual: clause.actual,
            matched: clause.matched,
          })),
        })),
      };
    },
    matching: (source) =>
      matchingValues(objectMapping, source).map(({ targetAttribute, value }) => ({ targetAttribute, value })),
    createResource: (source) => {
      const { resource, attributes: exported, problems } = buildCreateResource(objectMapping, source);
      if (problems.length) throw new MappingEvaluationError(problems);
      return {
        resource: resource as ScimResourceInput,
        exported: exported.map((attribute) => ({
          displayName: attribute.mapping.target,
          oldValue: null,
          newValue: attribute.redacted ? "[Redact]" : attribute.value,
        })),
      };
    },
    patch: (source, current) => {
      const { operations, modifiedProperties, problems } = buildPatch(objectMapping, source, current);
      if (problems.length) throw new MappingEvaluationError(problems);
      // lib/mapping always gives Add/Replace a value and Remove a path; the SCIM type states that per op.
      return { operations: operations as ScimPatchOperation[], modified: modifiedProperties };
    },
    desiredHash: (source) => desiredStateHash(objectMapping, source),
  };
}

const REFERENCE_TARGETS = new Set(["members", "manager"]);

/** Whether a target attribute holds references to other provisioned objects (resolved after them). */
export function isReferenceMapping(target: string): boolean {
  return REFERENCE_TARGETS.has(target.trim().toLowerCase());
}
