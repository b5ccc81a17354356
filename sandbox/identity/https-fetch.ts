import http from "node:http";
import https from "node:https";

export type FetchLike = (
  input: string | URL,
  init?: {
    method?: string;
    headers?: HeadersInit;
    body?: string | URLSearchParams;
    signal?: AbortSignal | null;
  },
) => Promise<Response>;

/**
 * A fetch that trusts only the given `ca` (it replaces the default roots), never follows redirects and returns a standard
 * `Response`. Node's global fetch only learns extra CAs through NODE_EXTRA_CA_CERTS at process start,
 * and undici (whose Agent could carry a CA) is not installed as a package here, so in-process callers
 * that must trust the sandbox certificate (tests, the login helper) use this instead.
 */
export function createHttpsFetch(ca: string | string[]): FetchLike {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      let body: string | undefined;
      if (init.body instanceof URLSearchParams) {
        body = init.body.toString();
        if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
      } else {
        body = init.body;
      }
      if (body !== undefined) headers.set("content-length", String(Buffer.byteLength(body)));

      const options: https.RequestOptions = {
        method: init.method ?? "GET",
        headers: Object.fromEntries(headers),
        ca: url.protocol === "https:" ? ca : undefined,
        signal: init.signal ?? undefined,
      };
      const request = (url.protocol === "https:" ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item);
            else if (value !== undefined) responseHeaders.set(name, value);
          }
          const status = response.statusCode ?? 500;
          const nullBody = status === 204 || status === 304 || options.method === "HEAD";
          resolve(
            new Response(nullBody ? null : Buffer.concat(chunks), {
              status,
              statusText: response.statusMessage,
              headers: responseHeaders,
            }),
          );
        });
      });
      request.on("error", reject);
      request.end(body);
    });
}
