import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Field, SelectInput, TextInput } from "./field";

function attributes(html: string, tag: "input" | "select") {
  const element = new RegExp(`<${tag}[^>]*>`).exec(html)?.[0] ?? "";
  return {
    describedBy: /aria-describedby="([^"]*)"/.exec(element)?.[1],
    invalid: /aria-invalid="([^"]*)"/.exec(element)?.[1],
  };
}

describe("Field", () => {
  it("links its control to the hint while the value is accepted", () => {
    const html = renderToStaticMarkup(
      <Field id="tenantUrl" label="Tenant URL" hint="For Dialpad this is https://dialpad.com/scim">
        <TextInput id="tenantUrl" />
      </Field>,
    );
    expect(attributes(html, "input")).toEqual({ describedBy: "tenantUrl-hint", invalid: undefined });
    expect(html).toContain('id="tenantUrl-hint"');
  });

  it("links its control to the error instead, marks it invalid and drops the hint", () => {
    const html = renderToStaticMarkup(
      <Field id="scope" label="Scope" hint="Who is synced" error="must be AssignedOnly or All">
        <SelectInput id="scope" />
      </Field>,
    );
    expect(attributes(html, "select")).toEqual({ describedBy: "scope-error", invalid: "true" });
    expect(html).toContain(
      '<p id="scope-error" class="text-sm text-red-700 dark:text-red-400" role="alert">',
    );
    expect(html).not.toContain("scope-hint");
  });

  it("leaves a control's own description alone, and a control outside a Field undescribed", () => {
    const own = renderToStaticMarkup(
      <Field id="expression" label="Expression" error="Syntax error">
        <TextInput id="expression" aria-describedby="expression-help" />
      </Field>,
    );
    expect(attributes(own, "input")).toEqual({ describedBy: "expression-help", invalid: "true" });
    expect(attributes(renderToStaticMarkup(<TextInput aria-label="Search" />), "input")).toEqual({
      describedBy: undefined,
      invalid: undefined,
    });
  });
});
