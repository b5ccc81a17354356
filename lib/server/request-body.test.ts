import { describe, expect, it } from "vitest";
import { AppError } from "./errors";
import { readJsonBody, rejectUnsafeStrings } from "./request-body";

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected a refusal");
}

describe("rejectUnsafeStrings", () => {
  it("names every field path holding NUL or an unpaired surrogate, keys included", () => {
    const error = refusal(() =>
      rejectUnsafeStrings(
        { a: ["ok", "bad\u0000"], b: { c: "\udc00 low", d: "😀 paired" }, ["key\ud800"]: 1 },
        "body",
      ),
    );

    expect(error.status).toBe(422);
    // The bad key is reported on the object holding it, here the body itself.
    expect(error.errors.map((entry) => entry.field).sort()).toEqual(["a.1", "b.c", "body"]);
  });

  it("refuses JSON nested deeper than any request of this API instead of walking it", () => {
    let deep: unknown = "leaf";
    for (let level = 0; level < 10_000; level++) deep = [deep];

    const error = refusal(() => rejectUnsafeStrings(deep, "body"));

    expect(error.errors[0]!.message).toMatch(/nested more than 64 levels/);
  });
});

describe("readJsonBody", () => {
  it("reads an empty body as {} whatever its type, so a bodiless POST works", async () => {
    const request = new Request("http://localhost/x", { method: "POST" });

    await expect(readJsonBody(request, { maxBytes: 1024 })).resolves.toEqual({});
  });

  it("refuses bytes that are not UTF-8", async () => {
    const request = new Request("http://localhost/x", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x22, 0xff, 0x22]),
    });

    await expect(readJsonBody(request, { maxBytes: 1024 })).rejects.toMatchObject({
      status: 422,
      errors: [{ field: "body", message: "not valid UTF-8" }],
    });
  });
});
