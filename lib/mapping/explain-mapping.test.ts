import { describe, expect, test } from "vitest";
import { defaultDialpadMapping } from "./default-dialpad";
import { explainObjectMapping } from "./explain-mapping";
import { ZAttributeMapping, type TObjectMapping } from "./model";

const userMapping = (extra: Parameters<typeof ZAttributeMapping.parse>[0][]): TObjectMapping => {
  const users = defaultDialpadMapping().users;
  return { ...users, attributeMappings: extra.map((mapping) => ZAttributeMapping.parse(mapping)) };
};

const source = {
  userPrincipalName: "zoe.angstrom@contoso.example",
  givenName: "Zoë",
  surname: "Ångström",
  jobTitle: null,
  mobilePhone: "",
  IsSoftDeleted: false,
};

describe("explainObjectMapping", () => {
  test("each mapping of the default Dialpad user mapping says what it exports or why it does not", () => {
    const explained = explainObjectMapping(defaultDialpadMapping().users, source, "create");
    const byTarget = Object.fromEntries(explained.map((entry) => [entry.target, entry]));
    expect(byTarget.userName).toMatchObject({ outcome: "exports", value: "zoe.angstrom@contoso.example" });
    expect(byTarget.active).toMatchObject({ outcome: "exports", value: true });
    expect(byTarget.title).toMatchObject({ outcome: "null", value: undefined });
    expect(explained).toHaveLength(defaultDialpadMapping().users.attributeMappings.length);
  });

  test("IgnoreFlowIfNullOrEmpty, errors, create-only mappings, defaults and Redact are told apart", () => {
    const mapping = userMapping([
      { type: "Expression", source: "IgnoreFlowIfNullOrEmpty([mobilePhone])", target: "nickName" },
      { type: "Expression", source: 'Mid([givenName], 0, "x")', target: "profileUrl" },
      { type: "Direct", source: "givenName", target: "name.givenName", apply: "OnlyDuringCreation" },
      { type: "Direct", source: "jobTitle", target: "title", defaultValue: "Staff" },
      { type: "Expression", source: "Redact([surname])", target: "name.familyName" },
    ]);
    const onCreate = explainObjectMapping(mapping, source, "create");
    expect(onCreate.map((entry) => [entry.target, entry.outcome, entry.value, entry.usedDefault])).toEqual([
      ["nickName", "ignored", undefined, false],
      ["profileUrl", "error", undefined, false],
      ["name.givenName", "exports", "Zoë", false],
      ["title", "exports", "Staff", true],
      ["name.familyName", "exports", "[Redact]", false],
    ]);
    expect(onCreate[1]?.message).toMatch(/Mid/);
    const onUpdate = explainObjectMapping(mapping, source, "update");
    expect(onUpdate[2]).toMatchObject({ outcome: "notOnUpdate" });
    // "Default value if null" applies on creation only, as in Entra.
    expect(onUpdate[3]).toMatchObject({ outcome: "null", usedDefault: false });
  });
});
