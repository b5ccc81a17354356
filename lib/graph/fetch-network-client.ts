import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";

/**
 * MSAL's network module over a given fetch. The service hands it the pinned, policy-checked fetch
 * (lib/net/pinned-fetch.ts), so MSAL's discovery and token requests to the authority host can only reach
 * addresses the outbound-address policy accepts, like every other request the server makes.
 */
export function createFetchNetworkClient(
  fetchImpl: typeof fetch,
  options: { timeoutMs?: number } = {},
): INetworkModule {
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function send<T>(
    url: string,
    method: "GET" | "POST",
    requestOptions?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetchImpl(url, {
        method,
        headers: requestOptions?.headers,
        body: method === "POST" ? (requestOptions?.body ?? "") : undefined,
        redirect: "manual",
        signal: controller.signal,
      });
      const text = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      try {
        return { headers, body: (text ? JSON.parse(text) : {}) as T, status: response.status };
      } catch {
        throw new Error(
          `The identity endpoint ${new URL(url).host} answered HTTP ${response.status} with a body that is not JSON`,
        );
      }
    } catch (error) {
      if (controller.signal.aborted)
        throw Object.assign(new Error(`No answer from ${new URL(url).host} within ${timeoutMs} ms`), {
          code: "ETIMEDOUT",
        });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    sendGetRequestAsync: <T>(url: string, requestOptions?: NetworkRequestOptions) =>
      send<T>(url, "GET", requestOptions),
    sendPostRequestAsync: <T>(url: string, requestOptions?: NetworkRequestOptions) =>
      send<T>(url, "POST", requestOptions),
  };
}
