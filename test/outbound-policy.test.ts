import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resetEnvironmentCache } from "@/lib/config/env";
import { resetServerContext, serverContext } from "@/lib/server/context";
import { callOperation, startHarness, type Harness } from "./security-harness";

/**
 * The outbound-address policy through the API: every URL the server calls (tenant, webhook, Graph
 * authority host, Graph base URL) is refused on save with a field error when it points into the private
 * network in any spelling, and a Graph URL stored before the check existed gets no connection at all
 * when a Reader searches the directory, only a "could not connect" that says nothing about the port.
 */
let h: Harness;
/** A TCP listener on every local address (dual stack) that counts the connections reaching it. */
let listener: net.Server;
let listenerPort: number;
let connections = 0;

beforeAll(async () => {
  h = await startHarness("outbound-policy-test");
  listener = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "::", resolve));
  listenerPort = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => listener?.close(() => resolve()));
  await h?.close();
});

const SECRET = "whsec-outbound-policy-test-secret";

const REFUSED_HOSTS = [
  "169.254.169.254",
  "10.0.0.1",
  "172.16.0.1",
  "192.168.1.1",
  "100.64.0.1",
  "198.18.0.1",
  "224.0.0.1",
  "255.255.255.255",
  "0.0.0.0",
  "192.0.2.1",
  "[::a9fe:a9fe]",
  "[::169.254.169.254]",
  "[::ffff:169.254.169.254]",
  "[64:ff9b::a9fe:a9fe]",
  "[64:ff9b:1::a9fe:a9fe]",
  "[::127.0.0.1]",
  "[::ffff:127.0.0.1]",
  "[fd00::1]",
  "[fe80::1]",
  "[ff02::1]",
];

describe("saving a URL the policy refuses", () => {
  test.each(REFUSED_HOSTS)(
    "https://%s as tenant, webhook, Graph authority and Graph base URL: 422 naming each field, nothing saved",
    async (host) => {
      const before = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
      const response = await callOperation("updateConnection", {
        token: h.tokens.admin,
        params: { connectionId: h.connectionId },
        body: {
          settings: {
            tenantUrl: `https://${host}/scim`,
            webhookUrl: `https://${host}/hook`,
            webhookSecret: SECRET,
            graphAuthorityHost: `https://${host}`,
            graphBaseUrl: `https://${host}/v1.0`,
            scheduleIntervalMinutes: 17,
          },
        },
      });
      expect(response.status).toBe(422);
      const errors = response.body?.errors as { field: string; message: string }[];
      expect(errors.map((error) => error.field)).toEqual([
        "tenantUrl",
        "webhookUrl",
        "graphAuthorityHost",
        "graphBaseUrl",
      ]);
      const named = { tenantUrl: "tenant URL", webhookUrl: "webhook URL" } as Record<string, string>;
      named.graphAuthorityHost = "Graph authority host";
      named.graphBaseUrl = "Graph base URL";
      for (const error of errors) {
        expect(error.message).toMatch(new RegExp(`^The ${named[error.field]} points to .+ address`));
      }
      const after = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
      expect(after.version).toBe(before.version);
      expect(after.scheduleIntervalMinutes).toBe(before.scheduleIntervalMinutes);
    },
  );

  test("outside the sandbox a Graph URL on loopback is refused too; in the sandbox it is its allowance", async () => {
    const loopback = { graphAuthorityHost: h.sandbox.runtime.graph.authorityHost };
    const inSandbox = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { settings: loopback },
    });
    expect(inSandbox.status).toBe(200);
    await withSandboxOff(async () => {
      const production = await callOperation("updateConnection", {
        token: h.tokens.admin,
        params: { connectionId: h.connectionId },
        body: { settings: { graphBaseUrl: "https://127.0.0.1:8443/v1.0", ...loopback } },
      });
      expect(production.status).toBe(422);
      expect(production.body?.errors).toEqual([
        {
          field: "graphAuthorityHost",
          message:
            "The Graph authority host points to localhost, a loopback address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS).",
        },
        {
          field: "graphBaseUrl",
          message:
            "The Graph base URL points to 127.0.0.1, a loopback address; an operator must allow that (ALLOW_PRIVATE_TENANT_URLS).",
        },
      ]);
    });
  });

  test("a Graph URL must be https even on the sandbox's loopback", async () => {
    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { settings: { graphBaseUrl: "http://localhost:8080/v1.0" } },
    });
    expect(response.status).toBe(422);
    expect(response.body?.errors).toEqual([
      { field: "graphBaseUrl", message: "The Graph base URL must use https." },
    ]);
  });
});

describe("a directory search with a refused Graph URL stored in the database", () => {
  const mappedLoopback = () => `https://[::ffff:127.0.0.1]:${listenerPort}`;

  async function searchAsReader() {
    return callOperation("searchDirectoryUsers", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      query: "search=ad",
    });
  }

  async function withStoredGraph<T>(
    settings: { graphBaseUrl?: string; graphAuthorityHost?: string },
    run: () => Promise<T>,
  ): Promise<T> {
    const { graph } = h.sandbox.runtime;
    await h.t.db.connection.update({ where: { id: h.connectionId }, data: settings });
    try {
      return await run();
    } finally {
      await h.t.db.connection.update({
        where: { id: h.connectionId },
        data: { graphBaseUrl: graph.baseUrl, graphAuthorityHost: graph.authorityHost },
      });
    }
  }

  test("the listener is reachable at that address, so 'no connection' below is the policy's doing", async () => {
    const before = connections;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: "::ffff:127.0.0.1", port: listenerPort }, () => resolve());
      socket.on("error", reject);
    });
    await expect.poll(() => connections).toBe(before + 1);
  });

  test("the sandbox search works with the emulator's URLs", async () => {
    const response = await searchAsReader();
    expect(response.status).toBe(200);
    expect((response.body?.users as unknown[]).length).toBeGreaterThan(0);
  });

  test("a base URL on an IPv4-mapped loopback address: no connection, a generic error", async () => {
    const before = connections;
    const response = await withStoredGraph({ graphBaseUrl: `${mappedLoopback()}/v1.0` }, searchAsReader);
    expect(response.status).toBe(502);
    expect(response.body?.detail).toBe(
      `Could not connect to Microsoft Graph at https://[::ffff:7f00:1]:${listenerPort}`,
    );
    expect(connections).toBe(before);
  });

  test("an authority on that address: no connection, so the client secret goes nowhere", async () => {
    const before = connections;
    const response = await withStoredGraph({ graphAuthorityHost: mappedLoopback() }, searchAsReader);
    expect(response.status).toBe(502);
    expect(response.body?.detail).toMatch(
      /^Could not reach the sign-in authority \[::ffff:7f00:1\]:\d+ \(could not connect\)/,
    );
    expect(connections).toBe(before);
  });

  test(
    "a closed port on an allowed address reads the same as a refused address",
    { timeout: 60_000 },
    async () => {
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const response = await withStoredGraph(
        { graphBaseUrl: `https://127.0.0.1:${port}/v1.0` },
        searchAsReader,
      );
      expect(response.status).toBe(502);
      expect(response.body?.detail).toBe(`Could not connect to Microsoft Graph at https://127.0.0.1:${port}`);
    },
  );

  test("outside the sandbox the emulator's own loopback URLs get no connection either", async () => {
    await withSandboxOff(async () => {
      const before = connections;
      const response = await withStoredGraph(
        {
          graphAuthorityHost: `https://127.0.0.1:${listenerPort}`,
          graphBaseUrl: `https://127.0.0.1:${listenerPort}/v1.0`,
        },
        searchAsReader,
      );
      expect(response.status).toBe(502);
      expect(response.body?.detail).toMatch(/could not connect/);
      expect(response.body?.detail).not.toMatch(/ECONNREFUSED|ECONNRESET|refused|reset|timed out/i);
      expect(connections).toBe(before);
    });
  });
});

describe("Test Connection to a port that is closed, or open but resetting", () => {
  test("both answer the same words, so the message cannot be used to find open ports", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = async (port: number) => {
      const response = await callOperation("testConnection", {
        token: h.tokens.admin,
        params: { connectionId: h.connectionId },
        body: { tenantUrl: `http://127.0.0.1:${port}/scim`, secretToken: "any-key-at-all" },
      });
      expect(response.status).toBe(200);
      const body = response.body as { ok: boolean; message: string; detail?: string };
      expect(body.ok).toBe(false);
      return JSON.stringify(body).replaceAll(String(port), "PORT");
    };
    const before = connections;
    const open = await outcome(listenerPort);
    // The listener was really reached (it resets every connection), the closed port was not.
    expect(connections).toBeGreaterThan(before);
    expect(await outcome(closedPort)).toBe(open);
    expect(open).toContain("Could not connect to 127.0.0.1:PORT.");
    expect(open).not.toMatch(/ECONNREFUSED|ECONNRESET|refused|reset|hang up/i);
  });
});

/** Runs with SANDBOX=off: the same server, with production's outbound policy. */
async function withSandboxOff(run: () => Promise<void>): Promise<void> {
  const log = serverContext().log;
  process.env.SANDBOX = "off";
  resetEnvironmentCache();
  resetServerContext();
  serverContext().log = log;
  try {
    await run();
  } finally {
    process.env.SANDBOX = "on";
    resetEnvironmentCache();
    resetServerContext();
    serverContext().log = log;
  }
}
