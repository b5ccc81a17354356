import { describe, expect, test } from "vitest";
import { GuardedRegex, RegexSyntaxError, RegexTooComplexError } from "./regex/engine";

describe("the guarded matcher follows .NET regular expressions", () => {
  test.each([
    ["\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "+91 9998887777", "${phoneNumber}", "9998887777"],
    ["[a-zA-Z_]*", "john_doe72", "", "72"],
    ["(a)(?<n>b)(c)", "abc", "$1-$2-$3-${n}", "a-c-b-b"], // .NET numbers named groups after unnamed ones
    ["(\\w+)@(\\w+)", "ann@contoso", "$2\\$1 $$ $& $0", "contoso\\ann $ ann@contoso ann@contoso"],
    ["x", "axb", "[$`|$']", "a[a|b]b"],
    ["(?i)ABC", "xabcx", "-", "x-x"],
    ["[a-z-[aeiou]]+", "hello", "_", "_e_o"],
    ["(?<=@)\\w+", "a@b c@dd", "X", "a@X c@X"],
    ["\\bcat\\b", "cat concat cat", "dog", "dog concat dog"],
    ["^\\s+|\\s+$", "  padded  ", "", "padded"],
    ["(?>a+)b", "aaab", "!", "!"],
    ["\\p{Lu}", "aBcD", "*", "a*c*"],
    ["é", "Zoé", "e", "Zoe"],
    ["${missing}", "x", "y", "x"],
    ["a{2,3}?", "aaaa", "-", "--"],
    ["(a)|b", "b", "[$1]", "[]"],
  ])("Regex.Replace(%j, %j → %j)", (pattern, input, replacement, expected) => {
    expect(GuardedRegex.compile(pattern).replace(input, replacement)).toBe(expected);
  });

  test.each([
    [".*\\@domain.com", "jane@domain.com", true],
    ["([1-9][0-9])", "workerID 42", true],
    ["^ab$", "ab\n", true], // $ also matches before a final newline
    ["^ab\\z", "ab\n", false],
    ["(a)\\1", "aa", true],
    ["(?:(a)|b)\\1", "b", false], // a backreference to a group that did not match fails in .NET
    ["[^\\d]", "123", false],
    ["Sales", "sales", false],
  ])("IsMatch(%j, %j) = %s", (pattern, input, expected) => {
    expect(GuardedRegex.compile(pattern).test(input)).toBe(expected);
  });

  test.each([
    ["(", 0, /not enough closing parentheses/],
    ["a)", 1, /too many closing parentheses/],
    ["[abc", 0, /unterminated \[\] set/],
    ["a**", 2, /nested quantifier/],
    ["*a", 0, /quantifier "\*" follows nothing/],
    ["\\q", 0, /unrecognized escape sequence \\q/],
    ["a{3,1}", 1, /x > y/],
    ["(?<a-b>x)", 3, /unsupported group name/],
    ["\\k<nope>", 0, /undefined group name "nope"/],
  ])("the invalid pattern %j is reported at character %i", (pattern, offset, message) => {
    let caught: unknown;
    try {
      GuardedRegex.compile(pattern);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegexSyntaxError);
    expect((caught as RegexSyntaxError).offset).toBe(offset);
    expect((caught as RegexSyntaxError).message).toMatch(message);
  });

  test.each([
    ["(a+)+$", `${"a".repeat(30)}!`],
    ["(a|a)*b", "a".repeat(40)],
    ["(.*)*x", "a".repeat(1000)],
    ["(\\w+\\s?)*$", `${"word ".repeat(40)}!`],
  ])("the catastrophic pattern %j gives up within the step budget", (pattern, input) => {
    const started = performance.now();
    expect(() => GuardedRegex.compile(pattern).test(input)).toThrow(RegexTooComplexError);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("ordinary patterns on the longest allowed input stay within budget", () => {
    const input = `${"a".repeat(1000)}@contoso.com`;
    expect(
      GuardedRegex.compile("^[a-z]+@(?<domain>[a-z.]+)$")
        .exec(input, 0, { remaining: 1_000_000 })
        ?.group("domain")?.value,
    ).toBe("contoso.com");
  });
});
