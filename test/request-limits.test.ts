import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { callOperation, startHarness, type ApiResponse, type Harness } from "./security-harness";

/**
 * Bounded work per request, through the real route handlers: bodies over MAX_REQUEST_BODY_BYTES are cut
 * off (413) after at most one chunk past the limit, only JSON is read (415), strings PostgreSQL cannot
 * store are refused by field (422), every text field has a length limit, and an expression preview that
 * would multiply its input is stopped (422) fast and without the memory it would have taken.
 */
let h: Harness;
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

beforeAll(async () => {
  h = await startHarness("request-limits-test");
});

afterAll(async () => {
  await h?.close();
});

function expectProblem(response: ApiResponse, status: number, type: string) {
  expect(response.status).toBe(status);
  expect(response.contentType).toBe("application/problem+json");
  expect(response.body).toMatchObject({ status, type: `urn:problem:${type}` });
}

/**
 * A body produced on demand, chunk by chunk, that records how much of it the server pulled and whether
 * it was cancelled: the proof that an oversized body was not read whole.
 */
function meteredBody(totalBytes: number) {
  const meter = { pulled: 0, cancelled: false };
  const chunk = new TextEncoder().encode("x".repeat(CHUNK));
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (meter.pulled >= totalBytes) return controller.close();
        meter.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        meter.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, meter };
}

async function connectionVersion() {
  return (await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } })).version;
}

describe("request body size", () => {
  test("a 2 MiB body sent chunked (no Content-Length) is cut off at the limit with 413", async () => {
    const { stream, meter } = meteredBody(2 * MiB);
    const before = await connectionVersion();

    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      rawBody: stream,
    });

    expectProblem(response, 413, "payload_too_large");
    expect(response.body?.title).toBe("Request body too large");
    expect(String(response.body?.detail)).toMatch(/1,048,576 bytes \(MAX_REQUEST_BODY_BYTES\)/);
    // Read up to the first chunk past 1 MiB, then cancelled: never the whole 2 MiB.
    expect(meter.pulled).toBeLessThanOrEqual(MiB + 2 * CHUNK);
    expect(meter.cancelled).toBe(true);
    expect(await connectionVersion()).toBe(before);
  });

  test("a 2 MiB body with its Content-Length declared is refused before a byte is read", async () => {
    const { stream, meter } = meteredBody(2 * MiB);

    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      rawBody: stream,
      headers: { "content-length": String(2 * MiB) },
    });

    expectProblem(response, 413, "payload_too_large");
    expect(meter.pulled).toBe(0);
  });

  test("the mapping editor's PUT, which reads its own body, is bounded too", async () => {
    const { stream, meter } = meteredBody(2 * MiB);

    const response = await callOperation("putMappings", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      rawBody: stream,
    });

    expectProblem(response, 413, "payload_too_large");
    expect(meter.pulled).toBeLessThanOrEqual(MiB + 2 * CHUNK);
  });
});

describe("request body media type", () => {
  test.each([
    ["text/plain", JSON.stringify({ settings: { name: "Applied from text" } })],
    ["application/x-www-form-urlencoded", "settings=%7B%22name%22%3A%22Applied%22%7D"],
  ])("%s is refused with 415 and nothing is applied", async (contentType, rawBody) => {
    const before = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });

    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      rawBody,
      headers: { "content-type": contentType },
    });

    expectProblem(response, 415, "unsupported_media_type");
    expect(String(response.body?.detail)).toContain(`application/json, not ${contentType}`);
    const after = await h.t.db.connection.findUniqueOrThrow({ where: { id: h.connectionId } });
    expect([after.name, after.version]).toEqual([before.name, before.version]);
  });

  test("JSON with a charset parameter is accepted", async () => {
    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { settings: { name: "Sandbox (charset)" } },
      headers: { "content-type": "application/json; charset=utf-8" },
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: "Sandbox (charset)" });
  });
});

describe("strings that cannot be stored", () => {
  test.each([
    ["NUL", "Sales\u0000Team"],
    ["a lone surrogate", "Sales \ud800 Team"],
  ])("%s in a string is 422 naming the field, and nothing is applied", async (_what, name) => {
    const before = await connectionVersion();

    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { settings: { name, notificationEmail: "ops@contoso.example" } },
    });

    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual([{ field: "settings.name", message: expect.any(String) }]);
    expect(await connectionVersion()).toBe(before);
  });

  test("a NUL in a query string is 422 naming the parameter", async () => {
    const response = await callOperation("listLogs", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      query: "identity=ab%00cd",
    });

    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual([{ field: "identity", message: expect.stringMatching(/NUL/) }]);
  });
});

describe("text field lengths", () => {
  test("a 100,000-character notificationEmail is 422 on that field", async () => {
    const before = await connectionVersion();

    const response = await callOperation("updateConnection", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: { settings: { notificationEmail: `${"a".repeat(100_000 - 13)}@contoso.test` } },
    });

    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual(
      expect.arrayContaining([
        { field: "settings.notificationEmail", message: expect.stringMatching(/254/) },
      ]),
    );
    expect(await connectionVersion()).toBe(before);
  });

  test("an over-long mapping target is 422 on its path", async () => {
    const current = await callOperation("getMappings", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
    });
    const config = structuredClone(
      (current.body as { config: { users: { attributeMappings: { description?: string }[] } } }).config,
    );
    config.users.attributeMappings[0]!.description = "d".repeat(5_000);

    const response = await callOperation("putMappings", {
      token: h.tokens.admin,
      params: { connectionId: h.connectionId },
      body: config,
    });

    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual([
      { field: "users.attributeMappings.0.description", message: expect.stringMatching(/1000/) },
    ]);
  });
});

describe("expression preview amplification", () => {
  /** The finding: one Join of 600 copies of a 100 KB attribute (a 9,9xx-character expression). */
  const join600 = `Join(" ", ${Array.from({ length: 600 }, () => "[displayName]").join(", ")})`;

  beforeAll(async () => {
    // Route module loaded and signing keys fetched, so the timings below are the request's own.
    await callOperation("previewExpression", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      body: { expression: "[displayName]", source: { displayName: "warm-up" } },
    });
  });

  test.each([
    ["a 100 KB source attribute (already longer than a value may be)", 100_000],
    ["a 10 KB source attribute (the arguments alone outgrow the total)", 10_000],
    ["a 1 KB source attribute (the Join's result is refused before it is built)", 1_000],
  ])("600-fold Join of %s: 422 in well under a second, RSS grows < 100 MB", async (_what, size) => {
    expect(join600.length).toBeGreaterThan(9_000);
    expect(join600.length).toBeLessThanOrEqual(10_000);
    const body = { expression: join600, source: { displayName: "N".repeat(size) } };
    const rssBefore = process.memoryUsage().rss;
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const started = performance.now();

    const response = await callOperation("previewExpression", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      body,
    });

    const elapsed = performance.now() - started;
    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual([
      { field: "expression", message: expect.stringMatching(/limited to 65,536|more than 1,048,576/) },
    ]);
    expect(elapsed).toBeLessThan(1_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * MiB);
    expect(process.resourceUsage().maxRSS * 1024 - peakBefore).toBeLessThan(100 * MiB);
    expect(response.text.length).toBeLessThan(2_000);
  });

  test("nested Joins (as deep as the parser allows) of a 4 KB attribute: 422 naming the Join", async () => {
    let expression = "[displayName]";
    for (let level = 0; level < 60; level++) expression = `Join(" ", ${expression}, [displayName])`;

    const started = performance.now();
    const response = await callOperation("previewExpression", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      body: { expression, source: { displayName: "N".repeat(4_000) } },
    });

    expect(performance.now() - started).toBeLessThan(1_000);
    expectProblem(response, 422, "validation_failed");
    expect(response.body?.errors).toEqual([
      {
        field: "expression",
        message: expect.stringMatching(/^Join: a value of [\d,]+ characters would be produced/),
      },
    ]);
  });

  test("an ordinary preview still answers 200 with its value and trace", async () => {
    const response = await callOperation("previewExpression", {
      token: h.tokens.reader,
      params: { connectionId: h.connectionId },
      body: {
        expression: 'Join(" ", [givenName], [surname])',
        source: { givenName: "Ada", surname: "Lovelace" },
      },
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ result: { ok: true, value: "Ada Lovelace" } });
  });
});
