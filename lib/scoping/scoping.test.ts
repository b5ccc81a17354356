import { describe, expect, test } from "vitest";
import { ScopeFilterError, evaluateScope, validateScopeFilter, type TScopeFilterInput } from "./index";

const one = (operatorName: string, values: string[], sourceOperandName = "attr"): TScopeFilterInput => ({
  groups: [{ name: "F", clauses: [{ operatorName, sourceOperandName, targetOperand: { values } }] }],
});
const matches = (operatorName: string, values: string[], actual: unknown): boolean =>
  evaluateScope(one(operatorName, values), actual === undefined ? {} : { attr: actual }).inScope;

describe("each operator, with Entra's NULL/empty and case rules", () => {
  test.each([
    ["EQUALS", ["Sales"], "Sales", true],
    ["EQUALS", ["Sales"], "sales", false],
    ["EQUALS", ["True"], true, true],
    ["EQUALS", [""], "", false],
    ["EQUALS", ["Sales"], undefined, false],
    ["NOT EQUALS", ["Sales"], "Marketing", true],
    ["NOT EQUALS", ["Sales"], "sales", true],
    ["NOT EQUALS", ["Sales"], "Sales", false],
    ["NOT EQUALS", ["Sales"], undefined, false],
    ["NOT EQUALS", ["Sales"], "", false],
    ["IS TRUE", [], true, true],
    ["IS TRUE", [], "TRUE", true],
    ["IS TRUE", [], false, false],
    ["IS TRUE", [], undefined, false],
    ["IS FALSE", [], false, true],
    ["IS FALSE", [], "False", true],
    ["IS FALSE", [], undefined, false],
    ["IS NULL", [], undefined, true],
    ["IS NULL", [], "", true],
    ["IS NULL", [], "x", false],
    ["IS NOT NULL", [], "x", true],
    ["IS NOT NULL", [], "", false],
    ["IS NOT NULL", [], undefined, false],
    ["REGEX MATCH", [".*\\@domain.com"], "jane@domain.com", true],
    ["REGEX MATCH", [".*\\@domain.com"], "jane@other.com", false],
    ["REGEX MATCH", ["^sales$"], "Sales", false],
    ["REGEX MATCH", ["(1[0-9][0-9][0-9][0-9][0-9][0-9])"], "1500000", true],
    ["REGEX MATCH", ["([1-9][0-9])"], "7", false],
    ["REGEX MATCH", [".*"], undefined, false],
    ["NOT REGEX MATCH", [".*\\@domain.com"], "jane@other.com", true],
    ["NOT REGEX MATCH", [".*\\@domain.com"], "jane@domain.com", false],
    ["NOT REGEX MATCH", [".*\\@domain.com"], undefined, false],
    ["NOT REGEX MATCH", [".*\\@domain.com"], "", false],
    ["Greater_Than", ["1000000"], "1500000", true],
    ["Greater_Than", ["1000000"], "1000000", false],
    ["Greater_Than", ["10"], 11, true],
    ["Greater_Than", ["10"], "eleven", false],
    ["Greater_Than", ["10"], undefined, false],
    ["Greater_Than_OR_EQUALS", ["1000000"], "1000000", true],
    ["Greater_Than_OR_EQUALS", ["1000000"], "999999", false],
    ["Less_Than", ["2000000"], "1999999", true],
    ["Less_Than", ["2000000"], "2000000", false],
    ["Less_Than_OR_EQUALS", ["2000000"], "2000000", true],
    ["Includes", ["Eng"], "Engineering", true],
    ["Includes", ["eng"], "Engineering", false],
    ["Includes", ["Eng"], undefined, false],
    ["ENDS_WITH", ["@contoso.com"], "ann@contoso.com", true],
    ["ENDS_WITH", ["@CONTOSO.COM"], "ann@contoso.com", false],
    ["&", ["Sales,Marketing"], "Sales", true],
    ["&", ["Sales,Marketing"], "Support", false],
    ["&", ["Sales,Marketing"], undefined, false],
    ["!&", ["Sales,Marketing"], "Support", true],
    ["!&", ["Sales,Marketing"], "Marketing", false],
    ["!&", ["Sales,Marketing"], undefined, false],
    ["EQUALS", ["a"], ["a", "b"], false],
  ] as const)("%s %j on %j → %s", (operator, values, actual, expected) => {
    expect(matches(operator, [...values], actual)).toBe(expected);
  });
});

describe("evaluateScope", () => {
  const filter: TScopeFilterInput = {
    groups: [
      {
        name: "New York engineers",
        clauses: [
          { operatorName: "EQUALS", sourceOperandName: "state", targetOperand: { values: ["New York"] } },
          {
            operatorName: "EQUALS",
            sourceOperandName: "department",
            targetOperand: { values: ["Engineering"] },
          },
          { operatorName: "IS NOT NULL", sourceOperandName: "jobTitle", targetOperand: { values: [] } },
        ],
      },
      {
        name: "Contractors",
        clauses: [
          {
            operatorName: "ENDS_WITH",
            sourceOperandName: "userPrincipalName",
            targetOperand: { values: ["@vendor.example"] },
          },
        ],
      },
    ],
  };

  test("clauses are AND-ed inside a filter, filters are OR-ed, and every clause explains itself", () => {
    const result = evaluateScope(filter, {
      state: "New York",
      department: "Engineering",
      jobTitle: "",
      userPrincipalName: "a@vendor.example",
    });
    expect(result).toEqual({
      inScope: true,
      groups: [
        {
          name: "New York engineers",
          matched: false,
          clauses: [
            {
              attribute: "state",
              operator: "EQUALS",
              values: ["New York"],
              actual: "New York",
              matched: true,
            },
            {
              attribute: "department",
              operator: "EQUALS",
              values: ["Engineering"],
              actual: "Engineering",
              matched: true,
            },
            { attribute: "jobTitle", operator: "IS NOT NULL", values: [], actual: "", matched: false },
          ],
        },
        {
          name: "Contractors",
          matched: true,
          clauses: [
            {
              attribute: "userPrincipalName",
              operator: "ENDS_WITH",
              values: ["@vendor.example"],
              actual: "a@vendor.example",
              matched: true,
            },
          ],
        },
      ],
    });
    expect(evaluateScope(filter, { state: "Ohio", userPrincipalName: "a@contoso.com" }).inScope).toBe(false);
  });

  test("an empty filter means every object is in scope", () => {
    expect(evaluateScope(null, {}).inScope).toBe(true);
    expect(evaluateScope({ groups: [] }, {})).toEqual({ inScope: true, groups: [] });
  });

  test("a catastrophic regular expression makes the clause false with a reason instead of hanging", () => {
    const result = evaluateScope(one("REGEX MATCH", ["(a+)+$"]), { attr: `${"a".repeat(40)}!` });
    expect(result.inScope).toBe(false);
    expect(result.groups[0]?.clauses[0]?.reason).toMatch(/catastrophic backtracking/);
  });

  test("an invalid filter is refused", () => {
    expect(() => evaluateScope(one("LIKE", ["x"]), {})).toThrow(ScopeFilterError);
  });
});

describe("validateScopeFilter names the filter and clause of each problem", () => {
  test.each([
    [
      one("REGEX MATCH", ["([a-z"], "userPrincipalName"),
      'Scoping filter 1 ("F"), clause 1 on userPrincipalName: "([a-z" is not a valid regular expression: unterminated [] set at character 2',
    ],
    [
      one("NOT REGEX MATCH", [".*@contoso.com", "a(b"], "mail"),
      'Scoping filter 1 ("F"), clause 1 on mail: "a(b" is not a valid regular expression: not enough closing parentheses at character 2',
    ],
    [
      one("Greater_Than", ["1.5"], "employeeId"),
      'Scoping filter 1 ("F"), clause 1 on employeeId: Greater_Than needs an integer value, got "1.5"',
    ],
    [
      one("Greater_Than_OR_EQUALS", ["10 000"], "employeeId"),
      'Scoping filter 1 ("F"), clause 1 on employeeId: Greater_Than_OR_EQUALS needs an integer value, got "10 000"',
    ],
    [
      one("Less_Than", [""], "employeeId"),
      'Scoping filter 1 ("F"), clause 1 on employeeId: Less_Than needs an integer value, got ""',
    ],
    [
      one("Less_Than_OR_EQUALS", ["ten"], "employeeId"),
      'Scoping filter 1 ("F"), clause 1 on employeeId: Less_Than_OR_EQUALS needs an integer value, got "ten"',
    ],
    [one("EQUALS", [], "department"), 'Scoping filter 1 ("F"), clause 1 on department: EQUALS needs a value'],
    [one("IS NULL", ["x"], "mail"), 'Scoping filter 1 ("F"), clause 1 on mail: IS NULL takes no value'],
    [
      one("EQUALS", ["x"], "members"),
      'Scoping filter 1 ("F"), clause 1 on members: the members attribute of a group is not supported in scoping filters',
    ],
    [one("EQUALS", ["x"], " "), 'Scoping filter 1 ("F"), clause 1: the attribute name is empty'],
    [{ groups: [{ name: "", clauses: [] }] }, "Scoping filter 1: a scoping filter needs at least one clause"],
  ])("%j", (filter, message) => {
    const result = validateScopeFilter(filter);
    expect(result.valid).toBe(false);
    expect(result.problems.map((problem) => problem.message)).toEqual([message]);
  });

  test.each([
    ["Equals", 'unknown operator "Equals" (Entra spells it "EQUALS"); expected one of EQUALS, NOT EQUALS, '],
    ["greater_than", 'unknown operator "greater_than" (Entra spells it "Greater_Than"); expected one of '],
    ["LIKE", 'unknown operator "LIKE"; expected one of EQUALS, '],
    ["IS IN", 'unknown operator "IS IN"; expected one of '],
  ])("unknown operator %j is named with the clause and the operators Entra accepts", (operator, start) => {
    const [problem] = validateScopeFilter(one(operator, ["x"], "department")).problems;
    expect(problem?.message).toContain(`Scoping filter 1 ("F"), clause 1 on department: ${start}`);
    expect(problem?.message).toMatch(/Less_Than_OR_EQUALS, Includes, ENDS_WITH, &, !&$/);
  });

  test.each(["Greater_Than", "Greater_Than_OR_EQUALS", "Less_Than", "Less_Than_OR_EQUALS"])(
    "%s accepts whole numbers, signed or padded",
    (operator) => {
      expect(validateScopeFilter(one(operator, ["-5"])).valid).toBe(true);
      expect(validateScopeFilter(one(operator, [" 42 "])).valid).toBe(true);
      expect(validateScopeFilter(one(operator, ["4.2"])).valid).toBe(false);
    },
  );

  test("the position of the failing clause is given as indexes too", () => {
    const filter = {
      groups: [
        {
          name: "ok",
          clauses: [
            { operatorName: "IS TRUE", sourceOperandName: "accountEnabled", targetOperand: { values: [] } },
          ],
        },
        {
          name: "second",
          clauses: [
            { operatorName: "EQUALS", sourceOperandName: "department", targetOperand: { values: ["Sales"] } },
            {
              operatorName: "Greater_Than",
              sourceOperandName: "employeeId",
              targetOperand: { values: ["abc"] },
            },
          ],
        },
      ],
    };
    expect(validateScopeFilter(filter).problems).toEqual([
      {
        groupIndex: 1,
        groupName: "second",
        clauseIndex: 1,
        message:
          'Scoping filter 2 ("second"), clause 2 on employeeId: Greater_Than needs an integer value, got "abc"',
      },
    ]);
    expect(validateScopeFilter({ groups: [{ clauses: [{ operatorName: 5 }] }] }).valid).toBe(false);
  });
});
