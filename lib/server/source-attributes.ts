import type { Connection } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import {
  EXTENSION_ATTRIBUTE_PATTERN,
  collectAttributeReferences,
  type ExtensionCatalog,
  type TMappingConfig,
} from "../mapping";
import { graphClientFor } from "./peers";

/** Extensions change rarely; an admin saving twice in a minute should not wait for Graph twice. */
const CATALOG_TTL_MS = 60_000;
/** A failed lookup is retried sooner: Graph may be back, and the admin may have granted the permission. */
const UNAVAILABLE_TTL_MS = 10_000;
const LOOKUP_TIMEOUT_MS = 10_000;

const cache = new Map<string, { expires: number; catalog: ExtensionCatalog | null }>();

/** A different Graph, app or secret may see different extensions. */
function cacheKey(connection: Connection): string {
  return [
    connection.id,
    connection.graphBaseUrl,
    connection.graphTenantId,
    connection.graphClientId,
    connection.graphClientSecretUpdatedAt?.getTime(),
  ].join("|");
}

/**
 * The tenant's directory extension attributes by object type, read from Graph's
 * getAvailableExtensionProperties and kept briefly per connection. Null when Graph could not answer
 * (not configured, unreachable, or the app lacks Directory.Read.All): Save then accepts any extension
 * name of the documented shape rather than blocking the admin on Graph.
 */
export async function extensionCatalogFor(
  connection: Connection,
  box: SecretBox,
  log?: { warn(fields: Record<string, unknown>, message: string): void },
): Promise<ExtensionCatalog | null> {
  const key = cacheKey(connection);
  const cached = cache.get(key);
  if (cached && cached.expires > Date.now()) return cached.catalog;
  let catalog: ExtensionCatalog | null;
  try {
    const graph = graphClientFor(connection, box, { timeoutMs: LOOKUP_TIMEOUT_MS, maxRetries: 0 });
    const definitions = await graph.getAvailableExtensionProperties();
    const namesFor = (target: string) =>
      definitions
        .filter((definition) => definition.targetObjects.some((type) => type.toLowerCase() === target))
        .map((definition) => definition.name);
    catalog = { users: namesFor("user"), groups: namesFor("group") };
  } catch (error) {
    log?.warn(
      { connectionId: connection.id, error: error instanceof Error ? error.message : String(error) },
      "could not read the directory extensions from Microsoft Graph; extension names are checked by shape only",
    );
    catalog = null;
  }
  cache.set(key, { expires: Date.now() + (catalog ? CATALOG_TTL_MS : UNAVAILABLE_TTL_MS), catalog });
  return catalog;
}

/** Only a configuration that reads an extension attribute needs Graph's list. */
export function readsExtensionAttributes(config: TMappingConfig): boolean {
  return collectAttributeReferences(config).some((reference) =>
    EXTENSION_ATTRIBUTE_PATTERN.test(reference.name),
  );
}

/** Tests register extensions between saves; production code relies on the short lifetime instead. */
export function forgetExtensionCatalogs(): void {
  cache.clear();
}
