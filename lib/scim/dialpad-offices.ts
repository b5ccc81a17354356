/** Pages followed at most: a company has tens of offices, not thousands. */
const MAX_PAGES = 20;

/**
 * Office names from Dialpad's REST API (GET /api/v2/offices, same API key as SCIM). SCIM does not expose
 * offices, yet Dialpad places a new user by matching its office attribute against these names exactly,
 * so the pre-flight check needs them.
 */
export async function listDialpadOffices(options: {
  tenantUrl: string;
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}): Promise<string[]> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const names: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const url = new URL("/api/v2/offices", options.tenantUrl);
    if (cursor) url.searchParams.set("cursor", cursor);
    const response = await fetchImpl(url, {
      headers: { Authorization: `Bearer ${options.token}`, Accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok)
      throw new Error(`GET ${url.pathname} answered HTTP ${response.status} ${response.statusText}`.trim());
    const body = (await response.json()) as { items?: { name?: unknown }[]; cursor?: unknown };
    if (!Array.isArray(body.items)) throw new Error(`GET ${url.pathname} did not return a list of offices`);
    for (const item of body.items) if (typeof item.name === "string") names.push(item.name);
    cursor = typeof body.cursor === "string" && body.cursor ? body.cursor : null;
    if (!cursor) return names;
  }
  return names;
}
