import { describe, expect, it } from "vitest";
import { savedSecretHint, withoutRepeatedTitle } from "./settings-text";

describe("savedSecretHint", () => {
  it("quotes the last four characters and invites a writer to replace the secret", () => {
    expect(savedSecretHint("key", "tion", true)).toBe(
      "A key ending in “tion” is saved. Type a new one to replace it.",
    );
  });

  it("does not invite a reader to type anything", () => {
    expect(savedSecretHint("secret", "abcd", false)).toBe("A secret ending in “abcd” is saved.");
  });
});

describe("withoutRepeatedTitle", () => {
  it("drops the words the title already says", () => {
    expect(
      withoutRepeatedTitle(
        "Connection succeeded: the tenant URL answered a SCIM user query.",
        "Connection succeeded",
      ),
    ).toBe("The tenant URL answered a SCIM user query.");
  });

  it("leaves other messages alone", () => {
    expect(withoutRepeatedTitle("Dialpad answered 401.", "Connection succeeded")).toBe(
      "Dialpad answered 401.",
    );
  });
});
