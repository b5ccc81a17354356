import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { SEED_USERS } from "../sandbox/graph/seed";
import { ADMIN, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help}`);
}

/**
 * An admin narrows the provisioning logs to one user by UPN (typed in capitals), shares the view by its
 * address (a reload keeps the filter, Back and Forward step through the filters), and finds who
 * provisioned that user on demand in the audit log, where the entry names her rather than her id.
 */
test("logs filtered by UPN survive a reload; the audit log is filtered by activity and object", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page);

  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  await page.getByLabel("Search users").fill("Zoë");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Zoë Ångström/ }).check();
  await page.getByRole("button", { name: "Provision", exact: true }).click();
  await expect(page.getByText("The user is in scope")).toBeVisible({ timeout: 60_000 });

  await page.getByRole("link", { name: "Provisioning logs", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
  const identity = page.getByLabel("Identity");
  const upn = SEED_USERS.zoe.upn.toUpperCase();
  await identity.fill(upn);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/[?&]identity=ZOE\.ANGSTROM%40CONTOSO\.EXAMPLE/);
  const entries = page
    .getByRole("table", { name: "Provisioning log entries, newest first" })
    .locator(":scope > tbody > tr");
  const onlyZoe = async () => {
    await expect(entries.filter({ hasText: "Zoë Ångström" }).first()).toBeVisible();
    await expect(entries.filter({ hasNotText: "Zoë Ångström" })).toHaveCount(0);
  };
  await onlyZoe();
  expect(await seriousViolations(page)).toEqual([]);
  await snapshot(page, "logs-filters-01-by-upn");

  await page.reload();
  await expect(identity).toHaveValue(upn);
  await onlyZoe();

  await page.getByLabel("Status").selectOption("Failure");
  await expect(page).toHaveURL(/status=Failure/);
  await page.goBack();
  await expect(page.getByLabel("Status")).toHaveValue("");
  await expect(identity).toHaveValue(upn);
  await onlyZoe();
  await page.goBack();
  await expect(identity).toHaveValue("");
  await page.goForward();
  await expect(identity).toHaveValue(upn);
  await onlyZoe();

  await page.getByRole("link", { name: "Audit log", exact: true }).click();
  await page.getByLabel("Activity").selectOption("Provision on demand");
  await page.getByLabel("Object").fill("ångström");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/activity=Provision\+on\+demand/);
  // The outer table's rows: each entry's changes are a table of their own.
  const auditRows = page
    .getByRole("table", { name: "Audit log entries, newest first" })
    .locator(":scope > tbody > tr");
  const audited = auditRows.filter({ hasText: "Provision on demand" }).first();
  await expect(audited).toContainText("Zoë Ångström");
  await expect(audited).toContainText(SEED_USERS.zoe.upn);
  await expect(audited).toContainText(ADMIN.username);
  await expect(auditRows.filter({ hasNotText: "Provision on demand" })).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);
  await snapshot(page, "audit-filters-01-on-demand");

  await page.reload();
  await expect(page.getByLabel("Object")).toHaveValue("ångström");
  await expect(page.getByLabel("Activity")).toHaveValue("Provision on demand");
  await expect(audited).toContainText("Zoë Ångström");
});
