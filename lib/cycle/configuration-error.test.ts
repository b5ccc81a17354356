import { describe, expect, test } from "vitest";
import { GraphError } from "../graph";
import { isPermanentError } from "../jobs/kind";
import { defaultDialpadMapping } from "../mapping";
import { asConfigurationError, checkMappingAttributes } from "./configuration-error";

const request = { method: "GET", url: "https://graph.microsoft.com/v1.0/users/delta" };

describe("asConfigurationError", () => {
  test("Graph's 400 for an unknown property is a permanent configuration error naming the attribute", () => {
    const graph = new GraphError({
      status: 400,
      code: "BadRequest",
      message:
        "Parsing OData Select and Expand failed: Could not find a property named 'jobTitel' on type 'microsoft.graph.user'.",
      retryable: false,
      request,
    });
    const error = asConfigurationError(graph);
    expect(error).not.toBeNull();
    expect(isPermanentError(error)).toBe(true);
    expect(error!.toJSON()).toMatchObject({
      code: "ConfigurationError",
      category: "configuration",
      attribute: "jobTitel",
      objectType: "users",
      recommendedAction: expect.stringMatching(
        /^Fix the mapping of "jobTitel" in Mappings \(user mappings\)/,
      ),
    });
  });

  test.each([
    ["a throttled request", 429, "TooManyRequests", "Too many requests."],
    ["another bad request", 400, "Request_UnsupportedQuery", "Unsupported query."],
    [
      "an unknown property on another type",
      400,
      "BadRequest",
      "Could not find a property named 'x' on type 'microsoft.graph.device'.",
    ],
  ])("%s is not a configuration error", (_label, status, code, message) => {
    expect(
      asConfigurationError(new GraphError({ status, code, message, retryable: status === 429, request })),
    ).toBeNull();
  });

  test("a plain error is not one either", () => {
    expect(
      asConfigurationError(new Error("Could not find a property named 'a' on type 'microsoft.graph.user'")),
    ).toBeNull();
  });
});

describe("checkMappingAttributes", () => {
  test("the default mapping passes; a typo in a user mapping fails with its field", () => {
    expect(checkMappingAttributes(defaultDialpadMapping())).toBeNull();
    const config = defaultDialpadMapping();
    const index = config.users.attributeMappings.findIndex((mapping) => mapping.target === "title");
    config.users.attributeMappings[index]!.source = "jobTitel";
    expect(checkMappingAttributes(config)?.toJSON()).toMatchObject({
      attribute: "jobTitel",
      field: `users.attributeMappings.${index}.source`,
    });
  });

  test("a disabled group mapping reads nothing and cannot fail the cycle", () => {
    const config = defaultDialpadMapping();
    config.groups.attributeMappings[0]!.source = "displayNmae";
    expect(checkMappingAttributes(config)?.attribute).toBe("displayNmae");
    config.groups.enabled = false;
    expect(checkMappingAttributes(config)).toBeNull();
  });
});
