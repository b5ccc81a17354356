/**
 * The snapshot reader against SCIM servers that page in the ways RFC 7644 allows and the ways real
 * servers get wrong, each scripted on a real HTTP server. The Dialpad emulator cases (and PostgreSQL)
 * are in test/target-snapshot.test.ts.
 */
import { afterEach, describe, expect, test } from "vitest";
import { sendScim, startTestServer, type TestServer } from "../../test/http-server";
import { createScimClient } from "./client";
import { readTargetSnapshot, type SnapshotPage } from "./snapshot-reader";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const users = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `u${i + 1}`, userName: `user${i + 1}@contoso.example` }));

/** A /Users listing server; `page` decides what a request for startIndex/count returns. */
async function listingServer(
  page: (
    startIndex: number,
    count: number,
    request: number,
  ) => { status?: number; totalResults?: number; startIndex?: number | null; resources?: unknown[] },
) {
  const server = await startTestServer((request, response, index) => {
    const url = new URL(request.url, "http://localhost");
    const startIndex = Number(url.searchParams.get("startIndex"));
    const count = Number(url.searchParams.get("count"));
    const answer = page(startIndex, count, index);
    if (answer.status && answer.status >= 400) {
      sendScim(response, answer.status, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: String(answer.status),
        detail: "listing not implemented",
      });
      return;
    }
    const resources = answer.resources ?? [];
    sendScim(response, 200, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
      totalResults: answer.totalResults,
      ...(answer.startIndex === null ? {} : { startIndex: answer.startIndex ?? startIndex }),
      itemsPerPage: resources.length,
      Resources: resources,
    });
  });
  servers.push(server);
  const client = createScimClient({
    baseUrl: `${server.url}/scim`,
    token: "snapshot-test-token-0123456789",
    retryPolicy: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  return { server, client };
}

async function read(client: ReturnType<typeof createScimClient>, pageSize = 100) {
  const pages: SnapshotPage[] = [];
  const verdict = await readTargetSnapshot(client, "User", {
    pageSize,
    onPage: async (page) => {
      pages.push(page);
    },
  });
  return { verdict, pages };
}

describe("readTargetSnapshot", () => {
  test("a server returning fewer than asked (7 of 100): the reader advances by what came back", async () => {
    const all = users(20);
    const { server, client } = await listingServer((startIndex) => ({
      totalResults: 20,
      resources: all.slice(startIndex - 1, startIndex - 1 + 7),
    }));
    const { verdict, pages } = await read(client);
    expect(verdict).toEqual({ reliable: true, totalResults: 20, distinctIds: 20, pages: 3, requests: 3 });
    expect(server.requests.map((request) => new URL(request.url, "http://x").search)).toEqual([
      "?startIndex=1&count=100",
      "?startIndex=8&count=100",
      "?startIndex=15&count=100",
    ]);
    expect(pages.flatMap((page) => page.resources.map((resource) => resource.id))).toEqual(
      all.map((user) => user.id),
    );
  });

  test("an empty target is one request and reliable", async () => {
    const { client } = await listingServer(() => ({ totalResults: 0, resources: [] }));
    expect((await read(client)).verdict).toEqual({
      reliable: true,
      totalResults: 0,
      distinctIds: 0,
      pages: 0,
      requests: 1,
    });
  });

  test("a server ignoring startIndex (page 1 every time, echoing startIndex 1) is caught on page 2", async () => {
    const { client } = await listingServer(() => ({
      totalResults: 250,
      startIndex: 1,
      resources: users(100),
    }));
    expect((await read(client)).verdict).toMatchObject({
      reliable: false,
      reason: "StartIndexIgnored",
      pages: 1,
    });
  });

  test("the same, without echoing startIndex: the repeated ids do not add up to totalResults", async () => {
    const { client } = await listingServer(() => ({
      totalResults: 250,
      startIndex: null,
      resources: users(100),
    }));
    expect((await read(client)).verdict).toMatchObject({
      reliable: false,
      reason: "CountMismatch",
      totalResults: 250,
      distinctIds: 100,
      pages: 3,
    });
  });

  test("an empty page before totalResults is reached", async () => {
    const all = users(300);
    const { client } = await listingServer((startIndex, count) => ({
      totalResults: 300,
      resources: startIndex > 200 ? [] : all.slice(startIndex - 1, startIndex - 1 + count),
    }));
    const { verdict, pages } = await read(client);
    expect(verdict).toMatchObject({ reliable: false, reason: "EmptyPage", pages: 2, distinctIds: 200 });
    expect(verdict.reliable || verdict.detail).toMatch(
      /startIndex 201 was empty although totalResults is 300/,
    );
    expect(pages).toHaveLength(2);
  });

  test("totalResults changing between pages", async () => {
    const { client } = await listingServer((startIndex) => ({
      totalResults: startIndex === 1 ? 150 : 149,
      resources: users(150).slice(startIndex - 1, startIndex + 99),
    }));
    expect((await read(client)).verdict).toMatchObject({ reliable: false, reason: "TotalChanged", pages: 1 });
  });

  test("a server that does not implement listing (501) is refused, not thrown", async () => {
    const { server, client } = await listingServer(() => ({ status: 501 }));
    const { verdict } = await read(client);
    expect(verdict).toMatchObject({ reliable: false, reason: "ListingRefused", requests: 1 });
    expect(verdict.reliable || verdict.detail).toMatch(/HTTP 501/);
    expect(server.requests).toHaveLength(1);
  });

  test("a rejected token (401) is thrown: per-object matching would fail the same way", async () => {
    const { client } = await listingServer(() => ({ status: 401 }));
    await expect(read(client)).rejects.toMatchObject({ code: "Unauthorized", status: 401 });
  });

  test("a failing onPage stops the listing and is thrown; the page fetched ahead is not an unhandled rejection", async () => {
    const { server, client } = await listingServer((startIndex, count) =>
      startIndex === 1 ? { totalResults: 300, resources: users(300).slice(0, count) } : { status: 500 },
    );
    await expect(
      readTargetSnapshot(client, "User", {
        onPage: () => Promise.reject(new Error("PostgreSQL is gone")),
      }),
    ).rejects.toThrow("PostgreSQL is gone");
    // Let the page-2 request (and its retries) finish; an unhandled rejection would fail the test run.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
  });
});
