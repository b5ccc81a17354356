import { SANDBOX_GRAPH_CLIENT, SANDBOX_TENANT_ID, type RunningGraphEmulator } from "./server";

/**
 * Helpers for tests that talk to a running emulator over HTTP, as a Graph client would.
 * Not used by the emulator itself.
 */

export async function getToken(
  emulator: RunningGraphEmulator,
  client: { clientId: string; clientSecret: string } = SANDBOX_GRAPH_CLIENT,
  tenant = SANDBOX_TENANT_ID,
): Promise<string> {
  const response = await fetch(`${emulator.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!response.ok || !body.access_token)
    throw new Error(`token request failed: ${response.status} ${body.error_description ?? ""}`);
  return body.access_token;
}

export interface GraphResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** GET a path ("/v1.0/users") or an absolute link (nextLink/deltaLink) with a bearer token. */
export async function graphGet<T = Record<string, unknown>>(
  emulator: RunningGraphEmulator,
  pathOrUrl: string,
  token: string | null,
  headers: Record<string, string> = {},
): Promise<GraphResult<T>> {
  const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${emulator.url}${pathOrUrl}`;
  const response = await fetch(url, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const text = await response.text();
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  return {
    status: response.status,
    headers: response.headers,
    body: (isJson && text ? JSON.parse(text) : text) as T,
  };
}

export interface ODataPage {
  value: Record<string, unknown>[];
  "@odata.nextLink"?: string;
  "@odata.deltaLink"?: string;
  "@odata.count"?: number;
}

/** Follows nextLinks to the end; returns every item, the page count and the final deltaLink if any. */
export async function followAll(
  emulator: RunningGraphEmulator,
  first: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ items: Record<string, unknown>[]; pages: number; deltaLink?: string }> {
  const items: Record<string, unknown>[] = [];
  let link: string | undefined = first;
  let pages = 0;
  let deltaLink: string | undefined;
  while (link) {
    const page: GraphResult<ODataPage> = await graphGet<ODataPage>(emulator, link, token, headers);
    if (page.status !== 200) throw new Error(`GET ${link} → ${page.status} ${JSON.stringify(page.body)}`);
    pages++;
    items.push(...page.body.value);
    link = page.body["@odata.nextLink"];
    deltaLink = page.body["@odata.deltaLink"];
  }
  return deltaLink ? { items, pages, deltaLink } : { items, pages };
}

export async function admin(
  emulator: RunningGraphEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
