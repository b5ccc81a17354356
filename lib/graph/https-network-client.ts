import { request as httpsRequest } from "node:https";
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";

export interface HttpsNetworkClientOptions {
  /** Extra trusted CA certificate(s) in PEM, e.g. the sandbox's self-signed certificate. */
  ca?: string | string[];
  timeoutMs?: number;
}

/**
 * MSAL network module over node:https. MSAL's default client uses global fetch, which trusts only the
 * CAs known at process start (NODE_EXTRA_CA_CERTS); this one lets a caller trust a sandbox certificate
 * generated at runtime without restarting the process.
 */
export function createHttpsNetworkClient(options: HttpsNetworkClientOptions = {}): INetworkModule {
  const timeoutMs = options.timeoutMs ?? 30_000;

  function send<T>(
    url: string,
    method: "GET" | "POST",
    requestOptions?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    return new Promise((resolve, reject) => {
      const body = method === "POST" ? (requestOptions?.body ?? "") : undefined;
      const req = httpsRequest(
        url,
        {
          method,
          ca: options.ca,
          headers: {
            ...requestOptions?.headers,
            ...(body !== undefined ? { "Content-Length": Buffer.byteLength(body).toString() } : {}),
          },
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
            }
            try {
              resolve({
                headers,
                body: (text ? JSON.parse(text) : {}) as T,
                status: response.statusCode ?? 0,
              });
            } catch {
              reject(
                new Error(
                  `The identity endpoint ${new URL(url).host} answered HTTP ${response.statusCode} with a body that is not JSON`,
                ),
              );
            }
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(
          Object.assign(new Error(`No answer from ${new URL(url).host} within ${timeoutMs} ms`), {
            code: "ETIMEDOUT",
          }),
        ),
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  return {
    sendGetRequestAsync: <T>(url: string, requestOptions?: NetworkRequestOptions) =>
      send<T>(url, "GET", requestOptions),
    sendPostRequestAsync: <T>(url: string, requestOptions?: NetworkRequestOptions) =>
      send<T>(url, "POST", requestOptions),
  };
}
