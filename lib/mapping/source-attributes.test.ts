import { describe, expect, test } from "vitest";
import {
  collectAttributeReferences,
  defaultDialpadMapping,
  findUnknownSourceAttributes,
  type TMappingConfig,
} from "./index";

const EXTENSION = "extension_0123456789abcdef0123456789abcdef_costCenter";

/** The default configuration with one user mapping's source replaced. */
function withUserSource(type: "Direct" | "Expression", source: string): TMappingConfig {
  const config = defaultDialpadMapping();
  const title = config.users.attributeMappings.find((mapping) => mapping.target === "title")!;
  title.type = type;
  title.source = source;
  return config;
}

const titleIndex = defaultDialpadMapping().users.attributeMappings.findIndex(
  (mapping) => mapping.target === "title",
);

describe("collectAttributeReferences reads references from the syntax tree", () => {
  test.each<[string, "Direct" | "Expression", string, { name: string; column?: number }[]]>([
    ["a Direct mapping", "Direct", " jobTitle ", [{ name: "jobTitle" }]],
    ["one attribute", "Expression", "[jobTitel]", [{ name: "jobTitel", column: 1 }]],
    [
      "attributes inside a function",
      "Expression",
      'Join(" ", [givenName], [surname])',
      [
        { name: "givenName", column: 11 },
        { name: "surname", column: 24 },
      ],
    ],
    [
      "nested calls and comparisons, repeated names each reported",
      "Expression",
      'IIF([country]="US", Append([mail], [mail]), "")',
      [
        { name: "country", column: 5 },
        { name: "mail", column: 28 },
        { name: "mail", column: 36 },
      ],
    ],
    ["brackets inside a string literal are text", "Expression", '"[jobTitel]"', []],
    [
      "a multi-line expression",
      "Expression",
      "ToUpper(\n  [department])",
      [{ name: "department", column: 3 }],
    ],
    [
      "an expression that does not parse has none (its syntax error is reported elsewhere)",
      "Expression",
      "ToUpper([a]",
      [],
    ],
  ])("%s", (_label, type, source, expected) => {
    const references = collectAttributeReferences(withUserSource(type, source)).filter(
      (reference) => reference.path[2] === titleIndex,
    );
    expect(
      references.map((reference) => ({
        name: reference.name,
        ...(reference.position ? { column: reference.position.column } : {}),
      })),
    ).toEqual(expected);
    for (const reference of references)
      expect(reference.path).toEqual(["users", "attributeMappings", titleIndex, "source"]);
  });

  test("scoping clauses are references at their clause's path", () => {
    const config = defaultDialpadMapping();
    config.groups.scope = {
      groups: [
        {
          name: "a",
          clauses: [
            { operatorName: "IS TRUE", sourceOperandName: "mailEnabled", targetOperand: { values: [] } },
          ],
        },
        {
          name: "b",
          clauses: [
            { operatorName: "IS NOT NULL", sourceOperandName: "descriptoin", targetOperand: { values: [] } },
          ],
        },
      ],
    };
    const scoped = collectAttributeReferences(config).filter((reference) => reference.path[1] === "scope");
    expect(scoped).toEqual([
      {
        objectType: "groups",
        path: ["groups", "scope", "groups", 0, "clauses", 0, "sourceOperandName"],
        name: "mailEnabled",
      },
      {
        objectType: "groups",
        path: ["groups", "scope", "groups", 1, "clauses", 0, "sourceOperandName"],
        name: "descriptoin",
      },
    ]);
  });
});

describe("findUnknownSourceAttributes", () => {
  test("the default configuration reads only attributes Graph has", () => {
    expect(findUnknownSourceAttributes(defaultDialpadMapping(), { users: [], groups: [] })).toEqual([]);
  });

  test.each<
    [string, "Direct" | "Expression", string, { users: string[]; groups: string[] } | null, string[]]
  >([
    [
      "a misspelled attribute in an expression",
      "Expression",
      "[jobTitel]",
      null,
      ["jobTitel (line 1, column 1)"],
    ],
    [
      "names compare case-insensitively, as in Graph",
      "Expression",
      'Join(" ", [GivenName], [SURNAME])',
      null,
      [],
    ],
    [
      "Entra's own names are known",
      "Expression",
      "Coalesce([telephoneNumber], [mobile], [physicalDeliveryOfficeName])",
      null,
      [],
    ],
    ["a group-only property on a user", "Direct", "securityEnabled", null, ["securityEnabled"]],
    ["an extension present in Graph", "Direct", EXTENSION, { users: [EXTENSION], groups: [] }, []],
    [
      "an extension Graph does not have",
      "Direct",
      EXTENSION,
      { users: [], groups: [EXTENSION] },
      [EXTENSION],
    ],
    ["an extension while Graph cannot say: accepted by its shape", "Direct", EXTENSION, null, []],
    [
      "a malformed extension name is never accepted",
      "Direct",
      "extension_123_costCenter",
      null,
      ["extension_123_costCenter"],
    ],
  ])("%s", (_label, type, source, extensions, expected) => {
    const problems = findUnknownSourceAttributes(withUserSource(type, source), extensions);
    expect(
      problems.map(
        (problem) =>
          `${problem.reference.name}${problem.reference.position ? ` (line ${problem.reference.position.line}, column ${problem.reference.position.column})` : ""}`,
      ),
    ).toEqual(expected);
    for (const problem of problems) {
      expect(problem.field).toBe(`users.attributeMappings.${titleIndex}.source`);
      expect(problem.message).toContain(problem.reference.name);
    }
  });

  test("the message says what is wrong and where", () => {
    const [problem] = findUnknownSourceAttributes(
      withUserSource("Expression", 'Append("x", [jobTitel])'),
      null,
    );
    expect(problem!.message).toBe(
      'the source "jobTitel" is not an attribute of microsoft.graph.user in Microsoft Graph (line 1, column 13)',
    );
  });
});
