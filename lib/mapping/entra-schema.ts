import { z } from "zod";
import { ZScopeFilter } from "../scoping";
import { printExpression, type ExpressionNode } from "./ast";
import { lookupFunction } from "./functions";
import { ZMappingConfig, type TAttributeMapping, type TMappingConfig, type TObjectMapping } from "./model";
import { MAX_EXPRESSION_LENGTH, parseExpression } from "./parser";
import { parseScimPath, scimPathKey } from "./scim-path";

/**
 * Entra's provisioning schema JSON (Graph synchronizationSchema, "Download schema" in the portal's
 * Attribute mapping editor): synchronizationRules[].objectMappings[] with attributeMappings and scope.
 * Only the parts the mapping model covers are read; directories[] is ignored.
 */
export interface EntraAttributeMappingSource {
  expression: string;
  name: string;
  type: "Attribute" | "Constant" | "Function";
  parameters: { key: string; value: EntraAttributeMappingSource }[];
}

export interface EntraAttributeMapping {
  defaultValue: string | null;
  exportMissingReferences: boolean;
  flowBehavior: "FlowWhenChanged" | "FlowAlways";
  flowType: "Always" | "ObjectAddOnly";
  matchingPriority: number;
  /** null for a mapping of type None (the target is left as it is). */
  source: EntraAttributeMappingSource | null;
  targetAttributeName: string;
}

export interface EntraObjectMapping {
  attributeMappings: EntraAttributeMapping[];
  enabled: boolean;
  flowTypes: string;
  metadata: { key: string; value: string }[];
  name: string;
  scope: { groups: unknown[]; inputFilterGroups: unknown[]; categoryFilterGroups: unknown[] } | null;
  sourceObjectName: string;
  targetObjectName: string;
}

export interface EntraSchemaDocument {
  synchronizationRules: {
    name: string;
    sourceDirectoryName: string;
    targetDirectoryName: string;
    objectMappings: EntraObjectMapping[];
  }[];
}

/** Entra's own schema exports name Switch's key/value arguments "switchValue"; other keys follow the reference. */
function parameterKey(functionName: string, index: number, parameterName: string | undefined): string {
  if (functionName === "Switch" && index >= 2) return "switchValue";
  return parameterName ?? `argument${index + 1}`;
}

function sourceFromNode(node: ExpressionNode, text: string): EntraAttributeMappingSource {
  switch (node.kind) {
    case "attribute":
      return { expression: `[${node.name}]`, name: node.name, type: "Attribute", parameters: [] };
    case "string":
      return { expression: printExpression(node), name: node.value, type: "Constant", parameters: [] };
    case "number":
      return { expression: node.raw, name: node.raw, type: "Constant", parameters: [] };
    case "constant":
      return { expression: node.name, name: node.name, type: "Constant", parameters: [] };
    case "omitted":
      return { expression: "", name: "", type: "Constant", parameters: [] };
    case "comparison":
      return {
        expression: text.slice(node.span.start, node.span.end),
        name: node.operator,
        type: "Function",
        parameters: [
          { key: "left", value: sourceFromNode(node.left, text) },
          { key: "right", value: sourceFromNode(node.right, text) },
        ],
      };
    case "call": {
      const spec = lookupFunction(node.name);
      const parameters = spec?.parameters ?? [];
      const last = parameters[parameters.length - 1];
      return {
        expression: text.slice(node.span.start, node.span.end),
        name: node.name,
        type: "Function",
        // Entra leaves omitted arguments out of parameters (its Switch([IsSoftDeleted], , ...) has no default).
        parameters: node.args.flatMap((argument, index) =>
          argument.kind === "omitted"
            ? []
            : [
                {
                  key: parameterKey(node.name, index, (parameters[index] ?? last)?.name),
                  value: sourceFromNode(argument, text),
                },
              ],
        ),
      };
    }
  }
}

function exportAttributeMapping(mapping: TAttributeMapping): EntraAttributeMapping {
  let source: EntraAttributeMappingSource | null;
  switch (mapping.type) {
    case "Direct":
      source = { expression: `[${mapping.source}]`, name: mapping.source, type: "Attribute", parameters: [] };
      break;
    case "Constant":
      source = {
        expression: `"${mapping.source.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
        name: mapping.source,
        type: "Constant",
        parameters: [],
      };
      break;
    case "Expression": {
      const ast = parseExpression(mapping.source);
      source = { ...sourceFromNode(ast, mapping.source), expression: mapping.source, type: "Function" };
      break;
    }
    case "None":
      source = null;
      break;
  }
  return {
    defaultValue: mapping.defaultValue,
    exportMissingReferences: false,
    flowBehavior: mapping.flowBehavior,
    flowType: mapping.apply === "OnlyDuringCreation" ? "ObjectAddOnly" : "Always",
    matchingPriority: mapping.matchingPriority,
    source,
    targetAttributeName: mapping.target,
  };
}

function exportObjectMapping(mapping: TObjectMapping): EntraObjectMapping {
  const flowTypes = [
    mapping.actions.create && "Add",
    mapping.actions.update && "Update",
    mapping.actions.delete && "Delete",
  ]
    .filter(Boolean)
    .join(",");
  return {
    attributeMappings: mapping.attributeMappings.map(exportAttributeMapping),
    enabled: mapping.enabled,
    flowTypes,
    metadata: [],
    name: mapping.name,
    scope: mapping.scope
      ? { groups: mapping.scope.groups, inputFilterGroups: [], categoryFilterGroups: [] }
      : null,
    sourceObjectName: mapping.sourceObjectName,
    targetObjectName: mapping.targetObjectName,
  };
}

/** Our configuration as Entra's schema JSON, ready to upload through "Edit schema" or Graph. */
export function exportEntraSchema(config: TMappingConfig): EntraSchemaDocument {
  return {
    synchronizationRules: [
      {
        name: "USER_OUTBOUND_USER",
        sourceDirectoryName: "Azure Active Directory",
        targetDirectoryName: "customappsso",
        objectMappings: [exportObjectMapping(config.users), exportObjectMapping(config.groups)],
      },
    ],
  };
}

const ZEntraSource: z.ZodType<{ expression?: string | null; name?: string | null; type?: string | null }> = z
  .object({
    expression: z.string().max(MAX_EXPRESSION_LENGTH).nullish(),
    name: z.string().max(256).nullish(),
    type: z.string().max(64).nullish(),
  })
  .loose();

const ZEntraAttributeMapping = z
  .object({
    defaultValue: z.string().max(2048).nullish(),
    flowBehavior: z.string().max(64).nullish(),
    flowType: z.string().max(64).nullish(),
    matchingPriority: z.number().int().nullish(),
    source: ZEntraSource.nullish(),
    targetAttributeName: z.string().max(512),
  })
  .loose();

const ZEntraObjectMapping = z
  .object({
    attributeMappings: z.array(ZEntraAttributeMapping).default([]),
    enabled: z.boolean().default(true),
    flowTypes: z.string().max(256).nullish(),
    name: z.string().max(256).default(""),
    scope: z
      .object({ groups: z.array(z.unknown()).nullish() })
      .loose()
      .nullish(),
    sourceObjectName: z.string().max(256),
    targetObjectName: z.string().max(256),
  })
  .loose();

const ZEntraSchemaDocument = z
  .object({
    synchronizationRules: z
      .array(z.object({ objectMappings: z.array(ZEntraObjectMapping).default([]) }).loose())
      .min(1),
  })
  .loose();

export type ImportIssue = { path: (string | number)[]; message: string };
export type ImportResult =
  | {
      success: true;
      data: TMappingConfig;
      warnings: string[];
      /** Where each object mapping came from in the document, to report later problems at its paths. */
      sourcePaths: { users: (string | number)[]; groups: (string | number)[] | null };
    }
  | { success: false; issues: ImportIssue[] };

/**
 * A problem found in the imported configuration (e.g. users.attributeMappings.3.source) at its place in
 * the schema document (synchronizationRules.0.objectMappings.0.attributeMappings.3.source.expression).
 */
export function schemaPathOf(
  field: string,
  sourcePaths: { users: (string | number)[]; groups: (string | number)[] | null },
): string {
  const [objectType, ...rest] = field.split(".");
  const base =
    objectType === "users" ? sourcePaths.users : objectType === "groups" ? sourcePaths.groups : null;
  if (!base) return field;
  const tail = rest[0] === "attributeMappings" && rest[2] === "source" ? [...rest, "expression"] : rest;
  return [...base, ...tail].join(".");
}

function importSource(
  source: z.infer<typeof ZEntraSource> | null | undefined,
): Pick<TAttributeMapping, "type" | "source"> | { error: string } {
  if (!source) return { type: "None", source: "" };
  const expression = source.expression ?? "";
  switch (source.type) {
    case "Attribute":
      return { type: "Direct", source: source.name ?? expression.replace(/^\[|\]$/g, "") };
    case "Constant": {
      if (typeof source.name === "string") return { type: "Constant", source: source.name };
      try {
        const node = parseExpression(expression);
        if (node.kind === "string") return { type: "Constant", source: node.value };
      } catch {
        // fall through to the raw text
      }
      return { type: "Constant", source: expression };
    }
    case "Function":
      return { type: "Expression", source: expression };
    default:
      return {
        error: `unknown source type "${String(source.type)}" (expected Attribute, Constant or Function)`,
      };
  }
}

/**
 * Reads Entra's schema JSON into our configuration so an admin can bring a configuration over from Entra.
 * Problems are reported per JSON path; anything we do not model is listed in `warnings`.
 */
export function importEntraSchema(document: unknown): ImportResult {
  const parsed = ZEntraSchemaDocument.safeParse(document);
  if (!parsed.success) {
    return {
      success: false,
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.map((part) => (typeof part === "symbol" ? String(part) : part)),
        message: issue.message,
      })),
    };
  }
  const warnings: string[] = [];
  const issues: ImportIssue[] = [];
  const located: { mapping: z.infer<typeof ZEntraObjectMapping>; path: (string | number)[] }[] = [];
  parsed.data.synchronizationRules.forEach((rule, ruleIndex) =>
    rule.objectMappings.forEach((mapping, mappingIndex) =>
      located.push({ mapping, path: ["synchronizationRules", ruleIndex, "objectMappings", mappingIndex] }),
    ),
  );
  const find = (sourceObjectName: string) =>
    located.find((entry) => entry.mapping.sourceObjectName.toLowerCase() === sourceObjectName.toLowerCase());
  const convert = (entry: (typeof located)[number]) => {
    const { mapping, path } = entry;
    const flowTypes = new Set(
      (mapping.flowTypes ?? "Add,Update,Delete").split(",").map((flow) => flow.trim()),
    );
    const attributeMappings = mapping.attributeMappings.flatMap((attribute, index) => {
      const source = importSource(attribute.source);
      if ("error" in source) {
        issues.push({ path: [...path, "attributeMappings", index, "source", "type"], message: source.error });
        return [];
      }
      if (attribute.flowType && attribute.flowType !== "Always" && attribute.flowType !== "ObjectAddOnly") {
        warnings.push(
          `${attribute.targetAttributeName}: flowType ${attribute.flowType} is treated as Always`,
        );
      }
      return [
        {
          type: source.type,
          source: source.source,
          target: attribute.targetAttributeName,
          defaultValue: attribute.defaultValue ?? null,
          apply: attribute.flowType === "ObjectAddOnly" ? "OnlyDuringCreation" : "Always",
          matchingPriority: attribute.matchingPriority ?? 0,
          flowBehavior: attribute.flowBehavior === "FlowAlways" ? "FlowAlways" : "FlowWhenChanged",
        },
      ];
    });
    const scopeGroups = mapping.scope?.groups ?? [];
    return {
      name: mapping.name || mapping.sourceObjectName,
      enabled: mapping.enabled,
      sourceObjectName: mapping.sourceObjectName,
      targetObjectName: mapping.targetObjectName,
      actions: {
        create: flowTypes.has("Add"),
        update: flowTypes.has("Update"),
        delete: flowTypes.has("Delete"),
      },
      attributeMappings,
      scope: scopeGroups.length > 0 ? ZScopeFilter.parse({ groups: scopeGroups }) : null,
    };
  };
  const users = find("User");
  const groups = find("Group");
  if (!users)
    issues.push({ path: ["synchronizationRules"], message: "no object mapping with sourceObjectName User" });
  if (issues.length > 0) return { success: false, issues };
  const groupMapping = groups
    ? convert(groups)
    : {
        name: "Groups",
        enabled: false,
        sourceObjectName: "Group",
        targetObjectName: "Group",
        actions: { create: true, update: true, delete: true },
        attributeMappings: [],
        scope: null,
      };
  if (!groups) warnings.push("the schema has no Group object mapping; groups are disabled");
  const config = ZMappingConfig.safeParse({
    users: convert(users as (typeof located)[number]),
    groups: groupMapping,
  });
  if (!config.success) {
    const pathOf = (issuePath: readonly PropertyKey[]): (string | number)[] => {
      const [objectType, ...rest] = issuePath.map((part) => (typeof part === "symbol" ? String(part) : part));
      const entry = objectType === "users" ? users : groups;
      return entry ? [...entry.path, ...rest] : [String(objectType), ...rest];
    };
    return {
      success: false,
      issues: config.error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message })),
    };
  }
  return {
    success: true,
    data: config.data,
    warnings,
    sourcePaths: { users: (users as (typeof located)[number]).path, groups: groups?.path ?? null },
  };
}

function targetKey(target: string): string {
  try {
    return scimPathKey(parseScimPath(target));
  } catch {
    return target;
  }
}

/**
 * Entra's schema JSON has no place for a mapping's description or its case-exact comparison, so an
 * imported configuration would drop them. They are taken over from the current configuration for every
 * mapping with the same target attribute; a mapping the document adds gets the defaults.
 */
export function keepFieldsTheSchemaLacks(imported: TMappingConfig, current: TMappingConfig): TMappingConfig {
  const carry = (next: TObjectMapping, before: TObjectMapping): TObjectMapping => {
    const previous = new Map(before.attributeMappings.map((mapping) => [targetKey(mapping.target), mapping]));
    return {
      ...next,
      attributeMappings: next.attributeMappings.map((mapping) => {
        const kept = previous.get(targetKey(mapping.target));
        if (!kept) return mapping;
        return {
          ...mapping,
          caseExact: kept.caseExact,
          ...(kept.description !== undefined ? { description: kept.description } : {}),
        };
      }),
    };
  };
  return { users: carry(imported.users, current.users), groups: carry(imported.groups, current.groups) };
}
