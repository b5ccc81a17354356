import http from "node:http";
import net from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OutboundConnectError } from "./connect-error";
import type { HostResolver } from "./outbound";
import { createPinnedFetch, type PinnedRequestInit } from "./pinned-fetch";

const production = { allowLoopbackHttp: false, allowPrivateAddresses: false };
const sandbox = { allowLoopbackHttp: true, allowPrivateAddresses: false };

/**
 * A real HTTP server on every local address ("::", dual stack), counting each TCP connection it accepts,
 * so a test can tell "the policy refused before connecting" from "connected and failed".
 */
let server: http.Server;
let port: number;
let connections = 0;
const seenHosts: string[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    seenHosts.push(request.headers.host ?? "");
    if (request.url === "/gzip") {
      response.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      response.end(zlib.gzipSync(JSON.stringify({ compressed: true })));
      return;
    }
    if (request.url === "/reset") {
      request.socket.destroy();
      return;
    }
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      response.writeHead(201, { "content-type": "application/json", "x-echo": "yes" });
      response.end(JSON.stringify({ method: request.method, body }));
    });
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "::", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the request to fail");
}

const dns: Record<string, string[]> = {
  "rebind.attacker.example": ["127.0.0.1"],
  "mixed.attacker.example": ["93.184.216.34", "127.0.0.1"],
  "api.local.test": ["127.0.0.1"],
};
const resolve: HostResolver = async (host) => {
  const addresses = dns[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

describe("pinned fetch", () => {
  test("in the sandbox a loopback request goes through: method, body, headers and status as sent", async () => {
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    const response = await pinned(`http://127.0.0.1:${port}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-echo")).toBe("yes");
    expect(await response.json()).toEqual({ method: "POST", body: '{"hello":"world"}' });
  });

  test("a compressed answer is decoded, as global fetch would", async () => {
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    const response = await pinned(`http://127.0.0.1:${port}/gzip`);
    expect(await response.json()).toEqual({ compressed: true });
  });

  test("a name connects to the address the check resolved, not to a second lookup", async () => {
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    const response = await pinned(`http://api.local.test:${port}/pinned`);
    expect(response.status).toBe(201);
    expect(seenHosts.at(-1)).toBe(`api.local.test:${port}`);
  });

  test.each([
    ["a loopback literal in production", production, "127.0.0.1"],
    ["the IPv4-mapped form of loopback, even in the sandbox", sandbox, "[::ffff:127.0.0.1]"],
    ["a name resolving to loopback in production", production, "rebind.attacker.example"],
    ["a name with one private address among public ones", production, "mixed.attacker.example"],
  ])("%s: no connection is made and the error only says 'could not connect'", async (_, policy, host) => {
    const pinned = createPinnedFetch({ policy, resolve });
    const before = connections;
    const url = new URL(`http://${host}:${port}/`);
    const error = await failure(pinned(url));
    expect(error).toBeInstanceOf(OutboundConnectError);
    expect(error.message).toBe(`could not connect to ${url.host}`);
    expect((error as OutboundConnectError).refusedByPolicy).toBe(true);
    expect(connections).toBe(before);
  });

  test("the refused mapped address is reachable at all, so the test above proves the policy stopped it", async () => {
    const before = connections;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: "::ffff:127.0.0.1", port }, () => {
        socket.destroy();
        resolve();
      });
      socket.on("error", reject);
    });
    await expect.poll(() => connections).toBe(before + 1);
  });

  test("a closed port and a reset read exactly like a refused address", async () => {
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const refused = await failure(pinned(`http://127.0.0.1:${closedPort}/`));
    expect(refused).toBeInstanceOf(OutboundConnectError);
    expect(refused.message).toBe(`could not connect to 127.0.0.1:${closedPort}`);
    expect((refused as OutboundConnectError).refusedByPolicy).toBe(false);

    const reset = await failure(pinned(`http://127.0.0.1:${port}/reset`));
    expect(reset).toBeInstanceOf(OutboundConnectError);
    expect(reset.message).toBe(`could not connect to 127.0.0.1:${port}`);
  });

  test("a kept-alive connection the server drops as it is reused is retried once on a new one", async () => {
    // Each connection answers its first request and drops at its second, like a server closing idle
    // connections at the moment the client reuses one.
    const served = new WeakMap<object, number>();
    const dropping = http.createServer((request, response) => {
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count > 1) {
        request.socket.destroy();
        return;
      }
      response.end("fresh");
    });
    let opened = 0;
    dropping.on("connection", () => (opened += 1));
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    const droppingPort = (dropping.address() as net.AddressInfo).port;
    try {
      const pinned = createPinnedFetch({ policy: sandbox, resolve });
      const first = await pinned(`http://127.0.0.1:${droppingPort}/a`, { method: "POST", body: "1" });
      expect(await first.text()).toBe("fresh");
      const second = await pinned(`http://127.0.0.1:${droppingPort}/b`, { method: "POST", body: "2" });
      expect(await second.text()).toBe("fresh");
      expect(opened).toBe(2);
    } finally {
      dropping.closeAllConnections();
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });

  test("a host that does not resolve says so (DNS, not ports)", async () => {
    const pinned = createPinnedFetch({ policy: production, resolve });
    const error = await failure(pinned("https://nowhere.invalid/"));
    expect((error as { code?: string }).code).toBe("ENOTFOUND");
  });

  test("an aborted request rejects with the caller's abort, not a connection error", async () => {
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    const controller = new AbortController();
    controller.abort();
    const error = await failure(pinned(`http://127.0.0.1:${port}/`, { signal: controller.signal }));
    expect(error.name).toBe("AbortError");
  });

  test("beforeSend is asked when the request leaves: refused then, nothing reaches the server", async () => {
    const seenBefore = seenHosts.filter(Boolean).length;
    const pinned = createPinnedFetch({ policy: sandbox, resolve });
    let allowed = true;
    const asked: boolean[] = [];
    const beforeSend = () => {
      asked.push(allowed);
      if (!allowed) throw new Error("lease lost");
    };
    const sent = (init: PinnedRequestInit) => pinned(`http://127.0.0.1:${port}/echo`, init);
    // On a new connection the check waits for the connection, so a change made meanwhile counts.
    const pending = sent({ method: "POST", body: "first", beforeSend });
    allowed = false;
    expect((await failure(pending)).message).toBe("lease lost");
    allowed = true;
    expect(await (await sent({ method: "POST", body: "second", beforeSend })).json()).toEqual({
      method: "POST",
      body: "second",
    });
    // A kept-alive connection is asked at once.
    allowed = false;
    expect((await failure(sent({ method: "POST", body: "third", beforeSend }))).message).toBe("lease lost");
    expect(asked).toEqual([false, true, false]);
    expect(seenHosts.filter(Boolean).length).toBe(seenBefore + 1);
  });
});
