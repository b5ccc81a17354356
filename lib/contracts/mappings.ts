import { z } from "zod";
import { ZMappingConfig, ZObjectMappingBase, ZTargetObjectActions } from "../mapping/model";
import { ZJsonValue } from "./common";
import { ZExportedValue } from "./on-demand";

/** Attribute mappings and scoping filters, the expression editor's live preview, Entra's schema JSON. */

export { ZMappingConfig };

/**
 * A configuration as the server answers with it: the document (users, groups) and, on reads, an index of
 * the target object actions by object type that PUT does not take back.
 */
export const ZMappingConfigResponse = z.object({
  users: ZObjectMappingBase,
  groups: ZObjectMappingBase,
  actions: z.object({ User: ZTargetObjectActions, Group: ZTargetObjectActions }).optional(),
});

export const ZMappings = z.object({
  /** Dialpad's default configuration (never saved, or restored). */
  isDefault: z.boolean(),
  config: ZMappingConfigResponse,
});
export type Mappings = z.infer<typeof ZMappings>;

export const ZPreviewRequest = z
  .object({
    expression: z.string().max(10_000),
    /** A directory user to evaluate against (preferred), or a literal source object. */
    objectId: z.string().min(1).max(200).optional(),
    source: z.record(z.string().max(256), z.unknown()).optional(),
  })
  .strict();

const ZTraceStep = z.object({
  /** The sub-expression as written. */
  expression: z.string(),
  start: z.number().int(),
  end: z.number().int(),
  /** 0 for the whole expression, +1 per nesting level. */
  depth: z.number().int(),
  /** Display form of the value (e.g. `"Sales"`, `NULL`, `True`); "[Redact]" under Redact. */
  value: z.string(),
  note: z.string().optional(),
});

const ZSourcePosition = z.object({
  offset: z.number().int(),
  line: z.number().int(),
  column: z.number().int(),
});

export const ZExpressionProblem = z.object({
  kind: z.enum(["syntax", "evaluation"]),
  message: z.string(),
  position: ZSourcePosition.optional(),
  end: ZSourcePosition.optional(),
  expected: z.array(z.string()).optional(),
  functionName: z.string().optional(),
  limitExceeded: z.enum(["value-length", "total-length", "steps", "time"]).optional(),
});

export const ZExplainResult = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    /** What Entra would export; absent when IgnoreFlowIfNullOrEmpty dropped the attribute. */
    value: ZExportedValue.optional(),
    flows: z.boolean(),
    redacted: z.boolean(),
    trace: z.array(ZTraceStep),
  }),
  z.object({ ok: z.literal(false), error: ZExpressionProblem, trace: z.array(ZTraceStep) }),
]);
export type ExplainResult = z.infer<typeof ZExplainResult>;

export const ZExpressionPreview = z.object({
  /** The source object evaluated against (the directory user as the mappings see it). */
  source: z.record(z.string(), ZJsonValue),
  result: ZExplainResult,
});
export type ExpressionPreview = z.infer<typeof ZExpressionPreview>;

/** Entra's provisioning schema JSON: synchronizationRules[].objectMappings[], as "Edit schema" takes it. */
export const ZEntraSchema = z
  .object({
    synchronizationRules: z.array(
      z
        .object({
          name: z.string(),
          sourceDirectoryName: z.string(),
          targetDirectoryName: z.string(),
          objectMappings: z.array(z.record(z.string(), ZJsonValue)),
        })
        .loose(),
    ),
  })
  .loose();

/** The import's body: any JSON object; its problems come back per path in the schema document. */
export const ZEntraSchemaImport = z.record(z.string(), z.unknown());

export const ZSchemaImportResult = z.object({
  config: ZMappingConfigResponse,
  warnings: z.array(z.string()),
});
export type SchemaImportResult = z.infer<typeof ZSchemaImportResult>;
