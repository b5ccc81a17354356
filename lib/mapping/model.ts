import { z } from "zod";
import { validateScopeFilter, ZScopeFilter } from "../scoping";
import { attributeNamesIn, type ExpressionNode } from "./ast";
import { ExpressionSyntaxError } from "./errors";
import { MAX_EXPRESSION_LENGTH, parseExpression } from "./parser";
import { ScimPathError, parseScimPath, scimPathKey } from "./scim-path";

/**
 * Entra's mapping types: Direct copies a source attribute, Constant sends a fixed string, Expression
 * evaluates a function expression, None leaves the target alone (only a default fills an empty target).
 */
export const ZAttributeMappingType = z.enum(["Direct", "Constant", "Expression", "None"]);

/** "Apply this mapping": Always, or Only during object creation (Graph flowType ObjectAddOnly). */
export const ZApplyMapping = z.enum(["Always", "OnlyDuringCreation"]);

/**
 * Lengths no real configuration approaches: an expression as long as Entra accepts, a SCIM path with a
 * filter, a default value as long as a URL. They keep a request or a stored configuration bounded.
 */
export const MAPPING_TEXT_LIMITS = {
  source: MAX_EXPRESSION_LENGTH,
  target: 512,
  defaultValue: 2048,
  description: 1000,
  name: 256,
  attributeMappings: 500,
} as const;

export const ZAttributeMapping = z.object({
  type: ZAttributeMappingType,
  /** Direct: the source attribute name; Constant: the value; Expression: the expression; None: "". */
  source: z.string().max(MAPPING_TEXT_LIMITS.source).default(""),
  /** Target attribute path, e.g. emails[type eq "work"].value. */
  target: z.string().min(1, "the target attribute is required").max(MAPPING_TEXT_LIMITS.target),
  /** "Default value if null": sent when the source value is NULL, on creation only. */
  defaultValue: z.string().max(MAPPING_TEXT_LIMITS.defaultValue).nullable().default(null),
  apply: ZApplyMapping.default("Always"),
  /** 0 = not used for matching; 1, 2, ... = matching precedence, lowest first. */
  matchingPriority: z.number().int().min(0).default(0),
  /** Compare current and desired values case-sensitively (the target attribute's caseExact). */
  caseExact: z.boolean().default(false),
  /** Graph flowBehavior, kept so an imported configuration exports unchanged. */
  flowBehavior: z.enum(["FlowWhenChanged", "FlowAlways"]).default("FlowWhenChanged"),
  /** Why this mapping exists (shown in the console). */
  description: z.string().max(MAPPING_TEXT_LIMITS.description).optional(),
});

export const ZObjectType = z.enum(["user", "group"]);

export const ZTargetObjectActions = z.object({
  create: z.boolean().default(true),
  update: z.boolean().default(true),
  delete: z.boolean().default(true),
});

export const ZObjectMappingBase = z.object({
  name: z.string().min(1).max(MAPPING_TEXT_LIMITS.name),
  enabled: z.boolean().default(true),
  sourceObjectName: z.string().min(1).max(MAPPING_TEXT_LIMITS.name),
  targetObjectName: z.string().min(1).max(MAPPING_TEXT_LIMITS.name),
  actions: ZTargetObjectActions.default({ create: true, update: true, delete: true }),
  attributeMappings: z.array(ZAttributeMapping).max(MAPPING_TEXT_LIMITS.attributeMappings),
  scope: ZScopeFilter.nullable().default(null),
});

function expressionOf(mapping: z.infer<typeof ZAttributeMapping>): ExpressionNode | null {
  if (mapping.type !== "Expression") return null;
  try {
    return parseExpression(mapping.source);
  } catch {
    return null;
  }
}

type ReportIssue = (path: (string | number)[], message: string, params?: Record<string, unknown>) => void;

function issueReporter(context: z.core.$RefinementCtx, prefix: (string | number)[]): ReportIssue {
  return (path, message, params) =>
    context.addIssue({ code: "custom", path: [...prefix, ...path], message, ...(params ? { params } : {}) });
}

function checkObjectMapping(
  mapping: z.infer<typeof ZObjectMappingBase>,
  report: ReportIssue,
  requireMatching: boolean,
): void {
  const seenTargets = new Map<string, number>();
  const seenPriorities = new Map<number, number>();
  mapping.attributeMappings.forEach((attribute, index) => {
    const at = (...path: (string | number)[]): (string | number)[] => ["attributeMappings", index, ...path];
    try {
      const key = scimPathKey(parseScimPath(attribute.target));
      const first = seenTargets.get(key);
      if (first !== undefined) {
        report(at("target"), `"${attribute.target}" is already the target of mapping ${first + 1}`);
      } else {
        seenTargets.set(key, index);
      }
    } catch (error) {
      if (!(error instanceof ScimPathError)) throw error;
      report(at("target"), error.message);
    }
    if (attribute.type === "Expression") {
      try {
        const ast = parseExpression(attribute.source);
        if (attribute.matchingPriority > 0 && containsCall(ast, "SelectUniqueValue")) {
          report(at("matchingPriority"), "SelectUniqueValue cannot be used on a matching attribute");
        }
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error;
        report(at("source"), error.message, { position: error.position, expected: error.expected });
      }
    }
    if (attribute.type === "Direct" && !/^[^[\]"]+$/.test(attribute.source.trim())) {
      report(at("source"), "a Direct mapping needs a source attribute name (without brackets)");
    }
    if (attribute.matchingPriority > 0) {
      const first = seenPriorities.get(attribute.matchingPriority);
      if (first !== undefined) {
        report(
          at("matchingPriority"),
          `matching precedence ${attribute.matchingPriority} is already used by mapping ${first + 1}`,
        );
      } else {
        seenPriorities.set(attribute.matchingPriority, index);
      }
      if (attribute.type === "None") {
        report(at("matchingPriority"), "a mapping of type None cannot be used for matching");
      }
    }
  });
  if (requireMatching && mapping.attributeMappings.every((attribute) => attribute.matchingPriority === 0)) {
    report(
      ["attributeMappings"],
      'at least one attribute must be marked "Match objects using this attribute" (matchingPriority ≥ 1)',
    );
  }
  if (mapping.scope) {
    for (const problem of validateScopeFilter(mapping.scope).problems) {
      const path: (string | number)[] = ["scope", "groups", problem.groupIndex];
      if (problem.clauseIndex !== undefined) path.push("clauses", problem.clauseIndex);
      report(path, problem.message);
    }
  }
}

function containsCall(node: ExpressionNode, name: string): boolean {
  if (node.kind === "call")
    return node.name === name || node.args.some((argument) => containsCall(argument, name));
  if (node.kind === "comparison") return containsCall(node.left, name) || containsCall(node.right, name);
  return false;
}

export const ZObjectMapping = ZObjectMappingBase.superRefine((mapping, context) =>
  checkObjectMapping(mapping, issueReporter(context, []), false),
);

/**
 * The whole provisioning configuration: one object mapping for users and one for groups. Validation
 * reports each problem at its field path, e.g. ["users", "attributeMappings", 3, "source"].
 */
export const ZMappingConfig = z
  .object({
    users: ZObjectMappingBase,
    groups: ZObjectMappingBase,
  })
  .superRefine((config, context) => {
    // Entra lets an admin disable the Groups mapping but not the Users mapping.
    if (!config.users.enabled) {
      context.addIssue({
        code: "custom",
        path: ["users", "enabled"],
        message: "the users mapping cannot be disabled",
      });
    }
    checkObjectMapping(config.users, issueReporter(context, ["users"]), true);
    checkObjectMapping(config.groups, issueReporter(context, ["groups"]), config.groups.enabled);
  });

export type TAttributeMapping = z.infer<typeof ZAttributeMapping>;
export type TAttributeMappingInput = z.input<typeof ZAttributeMapping>;
export type TObjectMapping = z.infer<typeof ZObjectMappingBase>;
export type TObjectMappingInput = z.input<typeof ZObjectMappingBase>;
export type TMappingConfig = z.infer<typeof ZMappingConfig>;
export type TMappingConfigInput = z.input<typeof ZMappingConfig>;
export type TObjectType = z.infer<typeof ZObjectType>;

/** Source attributes one attribute mapping reads. */
export function attributesReadBy(mapping: TAttributeMapping): string[] {
  if (mapping.type === "Direct") return [mapping.source.trim()];
  const ast = expressionOf(mapping);
  return ast ? attributeNamesIn(ast) : [];
}
