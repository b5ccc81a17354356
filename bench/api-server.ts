/**
 * The console's REST routes the bench measures (provisioning logs, their export, provision on demand),
 * served over real HTTP by a plain Node server in its own process. It calls the app's route handlers
 * themselves, bearer-token check included; what it leaves out is Next.js's router and rendering, because
 * starting Next needs a production build of the console, which a benchmark should not have to make.
 */
import http from "node:http";
import { Readable } from "node:stream";
import * as exportRoute from "../app/api/connections/[connectionId]/logs/export/route";
import * as logsRoute from "../app/api/connections/[connectionId]/logs/route";
import * as onDemandRoute from "../app/api/connections/[connectionId]/provision-on-demand/route";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

const routes: { method: string; pattern: RegExp; handler: Handler }[] = [
  { method: "GET", pattern: /^\/api\/connections\/([^/]+)\/logs$/, handler: logsRoute.GET },
  { method: "GET", pattern: /^\/api\/connections\/([^/]+)\/logs\/export$/, handler: exportRoute.GET },
  {
    method: "POST",
    pattern: /^\/api\/connections\/([^/]+)\/provision-on-demand$/,
    handler: onDemandRoute.POST,
  },
];

const server = http.createServer((req, res) => {
  void serve(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(error instanceof Error ? error.message : String(error));
  });
});

async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
  if (!route) {
    res.writeHead(404).end();
    return;
  }
  const connectionId = route.pattern.exec(url.pathname)![1]!;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (typeof value === "string") headers.set(name, value);
  const response = await route.handler(
    new Request(url, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    }),
    { params: Promise.resolve({ connectionId }) },
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  // Piping keeps the export streamed: backpressure reaches the ReadableStream's pull().
  Readable.fromWeb(response.body as import("node:stream/web").ReadableStream).pipe(res);
}

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  console.log(JSON.stringify({ msg: "api listening", port }));
});
const shutdown = () => server.close(() => process.exit(0));
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.on("disconnect", shutdown);
