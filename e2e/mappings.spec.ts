import fs from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { ADMIN, READER, signIn, snapshot } from "./fixtures";

const EXPRESSION = 'Join(" - ", [jobTitle], [department])';
/** A missing comma: the parser stops at the second "[" (column 24) and expects "," or ")". */
const BROKEN_EXPRESSION = 'Join(" - ", [jobTitle] [department])';

/**
 * An admin customizes the Dialpad mappings the way Entra's Mappings blade is used: edits an attribute
 * into an expression with a live preview against a real directory user, sees a syntax error pointed
 * at, adds a scoping filter, exports the schema, and finds the change in the audit log.
 */
test("an admin edits a mapping with live preview, adds a scoping filter, exports and audits", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Mappings", exact: true }).click();

  // The restore confirmation explains the full resync, starts on Cancel, and Escape closes it.
  const restoreButton = page.getByRole("button", { name: "Restore default mappings" });
  await restoreButton.click();
  const confirm = page.getByRole("dialog", { name: "Restore default mappings?" });
  await expect(confirm).toContainText("removes all scoping filters");
  await expect(confirm).toContainText("full (initial) cycle");
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0);
  await expect(restoreButton).toBeFocused();
  // Start from Dialpad's defaults so the journey does not depend on an earlier run's data.
  await restoreButton.click();
  await confirm.getByRole("button", { name: "Restore defaults" }).click();
  await expect(page.getByText("Default mappings restored.", { exact: false })).toBeVisible();
  await expect(page.getByText("Default mappings", { exact: true })).toBeVisible();

  const editTitle = page.getByRole("button", { name: "Edit mapping to title", exact: true });
  await expect(editTitle).toBeEnabled();
  await expect(page.getByText("next provisioning cycle a full (initial) cycle")).toBeVisible();
  await snapshot(page, "mappings-01-list");

  await editTitle.click();
  const dialog = page.getByRole("dialog", { name: "Edit attribute mapping: title" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Mapping type")).toBeFocused();
  await dialog.getByLabel("Mapping type").selectOption("Expression");
  const expression = dialog.getByLabel("Expression", { exact: true });
  // Switching Direct → Expression carries the source attribute over in brackets.
  await expect(expression).toHaveValue("[jobTitle]");
  await expression.fill(EXPRESSION);

  await dialog.getByLabel("Search a user to preview with").fill("Zoë");
  await dialog.getByRole("button", { name: "Search" }).click();
  await dialog.getByRole("radio", { name: /Zoë Ångström/ }).check();
  await expect(dialog.getByTestId("preview-value")).toHaveText("Account Executive - Sales");
  await dialog.getByText(/Evaluation steps/).click();
  await expect(dialog.getByRole("listitem").filter({ hasText: "[department]" }).first()).toBeVisible();
  await snapshot(page, "mappings-02-expression-preview");

  await expression.fill(BROKEN_EXPRESSION);
  const problem = dialog.getByTestId("expression-problem");
  await expect(problem).toContainText("line 1, column 24");
  await expect(problem).toContainText('expected "," or ")"');
  await expect(expression).toHaveAttribute("aria-invalid", "true");
  // The offending character is underlined in the highlighted layer.
  await expect(dialog.locator("pre [data-error]").first()).toHaveText("[");
  await snapshot(page, "mappings-03-expression-error");

  await expression.fill(EXPRESSION);
  await expect(problem).toHaveCount(0);
  await expect(dialog.getByTestId("preview-value")).toHaveText("Account Executive - Sales");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
  // Focus returns to the control that opened the dialog.
  await expect(editTitle).toBeFocused();

  const titleRow = page.getByRole("row").filter({ has: editTitle });
  await expect(titleRow).toContainText(EXPRESSION);
  await expect(titleRow).toContainText("Expression");
  await expect(page.getByText("Unsaved changes")).toBeVisible();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved. The next provisioning cycle is a full (initial) cycle.")).toBeVisible();

  await page.reload();
  await expect(page.getByRole("row").filter({ has: editTitle })).toContainText(EXPRESSION);

  // Scoping filter on the users mapping: department EQUALS Sales.
  await page.getByRole("button", { name: "Add scoping filter" }).first().click();
  await page.getByLabel("Attribute, filter 1, clause 1").first().fill("department");
  await page.getByLabel("Operator, filter 1, clause 1").first().selectOption("EQUALS");
  await page.getByLabel("Value, filter 1, clause 1").first().fill("Sales");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved. The next provisioning cycle is a full (initial) cycle.")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Value, filter 1, clause 1").first()).toHaveValue("Sales");
  await snapshot(page, "mappings-04-scoping-filter");

  const downloadPromise = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export schema" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/\.json$/);
  const exported = fs.readFileSync(await download.path(), "utf8");
  expect(exported).toContain("Join");
  expect(exported).toContain("department");

  await page.getByRole("link", { name: "Audit log" }).click();
  const auditRow = page.getByRole("row").filter({ hasText: "Update attribute mappings or scope" }).first();
  await expect(auditRow).toContainText(ADMIN.username);
  await expect(auditRow).toContainText("users.scope");
  await expect(
    page
      .getByRole("row")
      .filter({ hasText: "Update attribute mappings or scope" })
      .filter({ hasText: "users.title" })
      .first(),
  ).toBeVisible();
  await snapshot(page, "mappings-05-audit");

  // Leave the connection as the other journeys expect it: Dialpad's default mappings, no scoping filter.
  await page.getByRole("link", { name: "Mappings", exact: true }).click();
  await page.getByRole("button", { name: "Restore default mappings" }).click();
  await page
    .getByRole("dialog", { name: "Restore default mappings?" })
    .getByRole("button", { name: "Restore defaults" })
    .click();
  await expect(
    page.getByText("All users in the provisioning scope are synchronized (no scoping filter)."),
  ).toBeVisible();
});

test("the source attribute is searched in Entra's list, and OK refuses an expression that does not parse", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Mappings", exact: true }).click();
  const editTitle = page.getByRole("button", { name: "Edit mapping to title", exact: true });
  const titleRow = page.getByRole("row").filter({ has: editTitle });
  await expect(titleRow).toContainText("jobTitle");

  await editTitle.click();
  const dialog = page.getByRole("dialog", { name: "Edit attribute mapping: title" });
  const source = dialog.getByRole("combobox", { name: "Source attribute" });
  await expect(source).toHaveValue("jobTitle");

  // Typing narrows Entra's and Graph's attributes; the list has more than the common ones.
  await source.fill("office");
  const list = dialog.getByRole("listbox", { name: "Source attributes" });
  await expect(list.getByRole("option", { name: /^physicalDeliveryOfficeName/ })).toBeVisible();
  await expect(list.getByRole("option", { name: /^officeLocation/ })).toBeVisible();
  await expect(list.getByRole("option", { name: /^jobTitle/ })).toHaveCount(0);
  // The open list is an accessible combobox: no serious WCAG finding inside the dialog.
  const axe = await new AxeBuilder({ page })
    .include('[role="dialog"], dialog')
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  expect(
    axe.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map(
        (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
      ),
  ).toEqual([]);
  await source.fill("employeeHire");
  await expect(list.getByRole("option")).toHaveText(["employeeHireDate"]);
  await source.press("ArrowDown");
  await source.press("Enter");
  await expect(source).toHaveValue("employeeHireDate");
  await expect(list).toBeHidden();
  await expect(dialog).toBeVisible();
  await snapshot(page, "mappings-07-source-picker");

  // Free text stays possible: expression syntax typed here becomes an Expression mapping.
  await source.fill('Join(" ", [givenName], [surname])');
  await list.getByRole("option", { name: /as an expression/ }).click();
  await expect(dialog.getByLabel("Mapping type")).toHaveValue("Expression");
  const expression = dialog.getByLabel("Expression", { exact: true });
  await expect(expression).toHaveValue('Join(" ", [givenName], [surname])');

  // OK right after typing a broken expression (before the live preview answers) does nothing but say why.
  await expression.fill(BROKEN_EXPRESSION);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText("Fix the syntax error in the expression")).toBeVisible();
  const problem = dialog.getByTestId("expression-problem");
  await expect(problem).toHaveCount(1);
  await expect(problem).toHaveText(
    'Syntax error: line 1, column 24: Unexpected "[" in the argument list (expected "," or ")")',
  );
  // The position is stated once in the whole dialog.
  expect(((await dialog.textContent()) ?? "").match(/column 24/g)).toHaveLength(1);
  await expect(expression).toBeFocused();
  await snapshot(page, "mappings-08-ok-refused");

  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(titleRow).toContainText("jobTitle");
  await expect(page.getByText("Unsaved changes")).toHaveCount(0);
});

test("a reader sees the mappings read-only", async ({ page }) => {
  await signIn(page, READER);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Mappings", exact: true }).click();

  await expect(
    page.getByText("Read-only: your role (Provisioning.Reader) cannot change settings."),
  ).toBeVisible();
  const editButtons = page.getByRole("button", { name: /^Edit mapping to / });
  await expect(editButtons.first()).toBeVisible();
  for (const button of await editButtons.all()) await expect(button).toBeDisabled();
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Add new mapping" }).first()).toBeDisabled();
  await expect(page.getByRole("button", { name: "Restore default mappings" })).toBeDisabled();
  // Reading is allowed: the schema still exports.
  await expect(page.getByRole("button", { name: "Export schema" })).toBeEnabled();
  await snapshot(page, "mappings-06-reader");
});
