import { z } from "zod";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import type { SecretBox } from "../crypto/secrets";
import {
  defaultDialpadMapping,
  explainExpression,
  exportEntraSchema,
  findUnknownSourceAttributes,
  importEntraSchema,
  keepFieldsTheSchemaLacks,
  schemaPathOf,
  ZMappingConfig,
  type TMappingConfig,
} from "../mapping";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError, validationFailed } from "./errors";
import { extensionCatalogFor, readsExtensionAttributes } from "./source-attributes";

type Actions = { create: boolean; update: boolean; delete: boolean };

/** The connection's stored mapping configuration, or Dialpad's default when none was saved. */
export function loadMappingConfig(
  stored: unknown,
): TMappingConfig & { actions: { User: Actions; Group: Actions } } {
  const config = stored ? ZMappingConfig.parse(stored) : defaultDialpadMapping();
  return { ...config, actions: { User: config.users.actions, Group: config.groups.actions } };
}

export async function getMappings(
  db: PrismaClient,
  connectionId: string,
): Promise<{ isDefault: boolean; config: TMappingConfig }> {
  const connection = await getConnection(db, connectionId);
  const config = loadMappingConfig(connection.mappings);
  // Restoring the defaults stores them; the console still calls that configuration the default one.
  const isDefault =
    !connection.mappings ||
    canonical(ZMappingConfig.parse(connection.mappings)) === canonical(defaultDialpadMapping());
  return { isDefault, config };
}

export interface SaveMappingsOptions {
  /**
   * Opens the connection's Graph credentials to check directory extension attributes against the
   * tenant (the API passes it). Without it an extension name is checked by its shape only.
   */
  box?: SecretBox;
  log?: { warn(fields: Record<string, unknown>, message: string): void };
}

/**
 * Saves a mapping configuration after validating all of it (every problem reported at its field path,
 * an expression error with its position). A source attribute Graph does not have (a typo such as
 * `[jobTitel]`) is refused here, so it cannot fail every cycle later. As in Entra, any change
 * re-evaluates every object: the watermark is cleared so the next cycle is an initial one.
 */
export async function saveMappings(
  db: PrismaClient,
  principal: Principal,
  connectionId: string,
  input: unknown,
  options: SaveMappingsOptions = {},
): Promise<TMappingConfig> {
  const parsed = ZMappingConfig.safeParse(input);
  if (!parsed.success) {
    throw validationFailed(
      // An expression's syntax error already ends with its position (line, column, offset).
      parsed.error.issues.map((issue) => ({
        field: issue.path.join(".") || "(mappings)",
        message: issue.message,
      })),
    );
  }
  const before = await getConnection(db, connectionId);
  const extensions =
    options.box && readsExtensionAttributes(parsed.data)
      ? await extensionCatalogFor(before, options.box, options.log)
      : null;
  const unknownAttributes = findUnknownSourceAttributes(parsed.data, extensions);
  if (unknownAttributes.length > 0) {
    throw validationFailed(
      unknownAttributes.map((problem) => ({ field: problem.field, message: problem.message })),
    );
  }
  await db.$transaction(async (tx) => {
    await tx.connection.update({
      where: { id: connectionId },
      data: {
        mappings: parsed.data as unknown as Prisma.InputJsonValue,
        usersDeltaLink: null,
        groupsDeltaLink: null,
        version: { increment: 1 },
      },
    });
    await recordAudit(tx, {
      connectionId,
      activity: "Update attribute mappings or scope",
      principal,
      changes: summarizeMappingChange(
        before.mappings ? ZMappingConfig.parse(before.mappings) : defaultDialpadMapping(),
        parsed.data,
      ),
    });
  });
  return parsed.data;
}

export async function restoreDefaultMappings(
  db: PrismaClient,
  principal: Principal,
  connectionId: string,
): Promise<TMappingConfig> {
  return saveMappings(db, principal, connectionId, defaultDialpadMapping());
}

export async function exportSchema(db: PrismaClient, connectionId: string) {
  const { config } = await getMappings(db, connectionId);
  return exportEntraSchema(config);
}

export async function importSchema(
  db: PrismaClient,
  principal: Principal,
  connectionId: string,
  document: unknown,
  options: SaveMappingsOptions = {},
) {
  const imported = importEntraSchema(document);
  if (!imported.success) {
    throw validationFailed(
      imported.issues.map((issue) => ({ field: issue.path.join(".") || "(schema)", message: issue.message })),
    );
  }
  const { config: current } = await getMappings(db, connectionId);
  try {
    const merged = keepFieldsTheSchemaLacks(imported.data, current);
    const config = await saveMappings(db, principal, connectionId, merged, options);
    return { config, warnings: imported.warnings };
  } catch (error) {
    // The admin fixes the document they uploaded: name the problem's place in it.
    if (!(error instanceof AppError) || error.code !== "validation_failed") throw error;
    throw validationFailed(
      error.errors.map((entry) => ({
        field: schemaPathOf(entry.field, imported.sourcePaths),
        message: entry.message,
      })),
    );
  }
}

function canonical(config: TMappingConfig): string {
  return JSON.stringify(config);
}

/** Audit entries say which attribute mappings changed, not the whole document twice. */
function summarizeMappingChange(
  before: TMappingConfig,
  after: TMappingConfig,
): Record<string, { before: unknown; after: unknown }> {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const objectType of ["users", "groups"] as const) {
    const describe = (config: TMappingConfig) =>
      new Map(
        config[objectType].attributeMappings.map((mapping) => [
          mapping.target,
          `${mapping.type}: ${mapping.source}${mapping.matchingPriority ? ` (match ${mapping.matchingPriority})` : ""}${mapping.apply === "OnlyDuringCreation" ? " (on create)" : ""}`,
        ]),
      );
    const old = describe(before);
    const next = describe(after);
    for (const target of new Set([...old.keys(), ...next.keys()])) {
      if (old.get(target) !== next.get(target))
        changes[`${objectType}.${target}`] = {
          before: old.get(target) ?? null,
          after: next.get(target) ?? null,
        };
    }
    for (const field of ["enabled", "actions", "scope"] as const) {
      const a = JSON.stringify(before[objectType][field]);
      const b = JSON.stringify(after[objectType][field]);
      if (a !== b)
        changes[`${objectType}.${field}`] = {
          before: before[objectType][field],
          after: after[objectType][field],
        };
    }
  }
  return changes;
}

export const ZPreviewRequest = z
  .object({
    expression: z.string().max(10_000),
    /** A directory user to evaluate against (preferred), or a literal source object. */
    objectId: z.string().min(1).max(200).optional(),
    source: z.record(z.string().max(256), z.unknown()).optional(),
  })
  .strict();

/**
 * A Reader may call the preview with any expression and source object: its evaluation is bounded in time
 * as well as in size (the evaluator's defaults), so one request cannot occupy the web process.
 */
const PREVIEW_MAX_MILLISECONDS = 250;

/**
 * The live preview's evaluation. Data-dependent failures come back in the result for the editor to show;
 * an evaluation stopped at a bound is the request's fault and answers 422 naming the expression.
 */
export function explainForPreview(expression: string, source: Record<string, unknown>) {
  const result = explainExpression(expression, source, {
    limits: { maxMilliseconds: PREVIEW_MAX_MILLISECONDS },
  });
  if (!result.ok && result.error.limitExceeded) {
    throw new AppError("validation_failed", `expression: ${result.error.message}`, [
      { field: "expression", message: result.error.message },
    ]);
  }
  return result;
}
