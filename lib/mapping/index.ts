/**
 * The mapping domain core: Entra's expression language, attribute and object mappings, SCIM resources and
 * PATCH operations derived from them, and Entra schema import/export. Pure TypeScript; depends on zod only.
 */
export type { ComparisonOperator, ExpressionNode, SourceSpan } from "./ast";
export { attributeNamesIn, printExpression } from "./ast";
export {
  ExpressionEvaluationError,
  ExpressionLimitError,
  ExpressionSyntaxError,
  positionAt,
  type SourcePosition,
} from "./errors";
export { MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH, parseExpression } from "./parser";
export {
  DEFAULT_EVALUATION_LIMITS,
  evaluate,
  evaluateExpression,
  type EvaluationLimits,
  type EvaluationOptions,
  type EvaluationResult,
  type TraceStep,
} from "./evaluator";
export { explainExpression, type ExplainResult, type ExpressionProblem } from "./explain";
export { explainObjectMapping, type AttributeExplanation } from "./explain-mapping";
export type { ExportedValue, ScimComplexValue } from "./values";
export {
  FUNCTION_REGISTRY,
  argumentRange,
  signatureOf,
  type FunctionExample,
  type FunctionSpec,
  type ParameterSpec,
} from "./functions";
export {
  ZApplyMapping,
  ZAttributeMapping,
  ZAttributeMappingType,
  ZMappingConfig,
  ZObjectMapping,
  ZObjectType,
  ZTargetObjectActions,
  attributesReadBy,
  type TAttributeMapping,
  type TAttributeMappingInput,
  type TMappingConfig,
  type TMappingConfigInput,
  type TObjectMapping,
  type TObjectMappingInput,
  type TObjectType,
} from "./model";
export {
  CORE_GROUP_SCHEMA,
  CORE_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  ScimPathError,
  parseScimPath,
  readScimPath,
  scimPathKey,
  type ScimPath,
} from "./scim-path";
export {
  buildCreateResource,
  desiredState,
  desiredStateHash,
  matchingValues,
  sourceAttributesFor,
  type AttributeProblem,
  type CreateResourceResult,
  type DesiredAttribute,
  type DesiredState,
  type MatchingValue,
  type ProvisioningOperation,
  type ProvisioningOptions,
} from "./resource";
export {
  PATCH_OP_SCHEMA,
  buildPatch,
  createdProperties,
  type ModifiedProperty,
  type PatchOperation,
  type PatchOperationName,
  type PatchResult,
} from "./patch";
export { defaultDialpadMapping } from "./default-dialpad";
export {
  exportEntraSchema,
  importEntraSchema,
  keepFieldsTheSchemaLacks,
  schemaPathOf,
  type EntraAttributeMapping,
  type EntraAttributeMappingSource,
  type EntraObjectMapping,
  type EntraSchemaDocument,
  type ImportResult,
} from "./entra-schema";
export { renderExpressionDocs } from "./docs";
export { GuardedRegex, MAX_REGEX_INPUT_LENGTH, RegexSyntaxError, RegexTooComplexError } from "./regex/engine";
export {
  ENTRA_GROUP_ATTRIBUTES,
  ENTRA_USER_ATTRIBUTES,
  EXTENSION_ATTRIBUTE_PATTERN,
  GRAPH_GROUP_PROPERTIES,
  GRAPH_USER_PROPERTIES,
  collectAttributeReferences,
  findUnknownSourceAttributes,
  isKnownSourceAttribute,
  type AttributeReference,
  type ExtensionCatalog,
  type SourceObjectType,
  type UnknownAttributeProblem,
} from "./source-attributes";
