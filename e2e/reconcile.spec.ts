import fs from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { SANDBOX_DIALPAD_KEY } from "../sandbox/dialpad/server";
import { ADMIN, READER, dialpadUrl, sandboxHubUrl, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

/**
 * The Reconcile tab: Dialpad users created by hand (the sandbox hub's button) show up as orphans with
 * why; the admin previews "Suspend orphans" and applies it; a Reader sees the same report but every
 * button that would change something is disabled. Axe-clean in light and dark.
 */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
    );
}

const orphanCount = (page: Page) => page.getByTestId("count-Orphan users");

test("an admin finds the users created by hand in Dialpad and suspends them", async ({ page, request }) => {
  test.setTimeout(180_000);
  const hub = await (await request.get(sandboxHubUrl())).text();
  const token = /action="\/dialpad\/by-hand"><input type="hidden" name="token" value="([^"]+)"/.exec(
    hub,
  )?.[1];
  const byHand = await request.post(`${sandboxHubUrl()}/dialpad/by-hand`, {
    form: { token: token ?? "" },
    maxRedirects: 0,
  });
  expect(byHand.status()).toBe(303);

  await signIn(page, ADMIN);
  await saveSandboxDialpad(page);
  await page.getByRole("link", { name: "Reconcile", exact: true }).click();
  await page.getByRole("button", { name: "Run reconcile" }).click();
  await expect(page.getByRole("button", { name: "Run reconcile" })).toBeEnabled({ timeout: 90_000 });
  await expect(orphanCount(page)).not.toHaveText("0");

  // The setting is saved as it is clicked, and is there after a reload; turned off again for the specs
  // that follow (a report after their full cycles would add Dialpad requests they count).
  const afterFullCycle = page.getByRole("checkbox", { name: "Run a reconcile report after each full cycle" });
  await afterFullCycle.check();
  await expect(afterFullCycle).toBeEnabled();
  await page.reload();
  await expect(afterFullCycle).toBeChecked();
  await afterFullCycle.uncheck();
  await expect(afterFullCycle).toBeEnabled();
  await page.reload();
  await expect(afterFullCycle).not.toBeChecked();
  // The findings e-mail is saved the same way, and says where it goes (or that no address is set yet).
  const alertEmail = page.getByRole("checkbox", {
    name: "E-mail the notification address when a report finds new orphans or drift",
  });
  await alertEmail.check();
  await expect(alertEmail).toBeEnabled();
  await expect(
    page.getByText(/^(Sent to \S+@\S+ when a report finds more|Set a notification e-mail)/),
  ).toBeVisible();
  await page.reload();
  await expect(alertEmail).toBeChecked();

  const table = page.getByRole("table", { name: "Reconcile findings" });
  await page.getByLabel("Category").selectOption("orphan");
  const frontDesk = table.getByRole("row").filter({ hasText: "front.desk@contoso.example" });
  await expect(frontDesk).toContainText("Never linked");
  const una = table.getByRole("row").filter({ hasText: "una.unassigned@contoso.example" });
  await expect(una).toContainText("Matching attribute collides");
  await expect(una.getByRole("button", { name: /^Adopt/ })).toBeEnabled();
  await snapshot(page, "reconcile-01-orphans");

  // The download carries the table's filter: the orphans, and nothing but orphans.
  const downloadEvent = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download CSV" }).click();
  const download = await downloadEvent;
  expect(download.suggestedFilename()).toMatch(/^Reconcile-.*\.csv$/);
  const rows = fs
    .readFileSync(await download.path(), "utf8")
    .trim()
    .split("\r\n");
  expect(rows[0]).toContain('"Orphan reason"');
  expect(rows.join("\n")).toContain('"front.desk@contoso.example"');
  expect(rows.slice(1).every((row) => row.startsWith('"orphan"'))).toBe(true);

  const light = await seriousViolations(page);
  await page.getByLabel("Theme").selectOption("dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  const dark = await seriousViolations(page);
  await page.getByLabel("Theme").selectOption("system");
  expect({ light, dark }).toEqual({ light: [], dark: [] });

  // Adopt the orphan that has the userName of an Entra user: linked, nothing sent to Dialpad.
  await una.getByRole("button", { name: /^Adopt/ }).click();
  const adoptDialog = page.getByRole("dialog", {
    name: /^Link Dialpad user una\.unassigned@contoso\.example to Entra user /,
  });
  await adoptDialog.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Done" })).toContainText("1 succeeded, 0 failed");
  await expect(table.getByRole("row").filter({ hasText: "una.unassigned@contoso.example" })).toHaveCount(0);

  // With a deletion threshold of 1, suspending the rest waits for the admin's explicit approval.
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await page.getByLabel("Accidental deletion threshold").fill("1");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Reconcile", exact: true }).click();
  await page.getByRole("button", { name: "Suspend orphans…" }).click();
  const dialog = page.getByRole("dialog", { name: /^Suspend \d+ Dialpad users? \(active=false/ });
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await expect(dialog.getByTestId("action-preview")).toContainText("front.desk@contoso.example");
  await expect(dialog.getByTestId("action-preview")).toContainText("active true → false");
  await expect(dialog.getByTestId("action-preview")).not.toContainText("una.unassigned@contoso.example");
  expect(await seriousViolations(page)).toEqual([]);
  const confirm = dialog.getByRole("checkbox", { name: /I confirm these suspensions/ });
  await expect(dialog.getByRole("button", { name: "Apply" })).toBeDisabled();
  await confirm.check();
  await dialog.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Done" })).toContainText("0 failed");

  const filter = encodeURIComponent('userName eq "front.desk@contoso.example"');
  const found = await request.get(`${dialpadUrl()}/scim/Users?filter=${filter}`, {
    headers: { authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` },
    ignoreHTTPSErrors: true,
  });
  const list = (await found.json()) as { Resources: { active?: boolean }[] };
  expect(list.Resources[0]?.active).toBe(false);

  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page.getByTestId("reconcile-summary")).toContainText("orphans");
  await page.getByRole("link", { name: "See the reconcile report" }).click();
  await expect(page.getByRole("heading", { name: "Reconcile", exact: true })).toBeVisible();
  await snapshot(page, "reconcile-02-suspended");
});

test("a reader sees the reconcile report but cannot run it or act on it", async ({ page }) => {
  await signIn(page, READER);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Reconcile", exact: true }).click();
  await expect(orphanCount(page)).not.toHaveText("0");
  await expect(page.getByRole("button", { name: "Run reconcile" })).toBeDisabled();
  await expect(
    page.getByText("Your role can view the reconcile report but not run it or act on it (Reader)."),
  ).toBeVisible();
  await expect(page.getByRole("button", { name: "Suspend orphans…" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Re-apply desired values…" })).toBeDisabled();
  await expect(
    page.getByRole("checkbox", { name: "Run a reconcile report after each full cycle" }),
  ).toBeDisabled();
  await expect(
    page.getByRole("checkbox", {
      name: "E-mail the notification address when a report finds new orphans or drift",
    }),
  ).toBeDisabled();
  const table = page.getByRole("table", { name: "Reconcile findings" });
  await expect(table.getByRole("row").filter({ hasText: "front.desk@contoso.example" })).toBeVisible();
  for (const adopt of await table.getByRole("button", { name: /^Adopt/ }).all())
    await expect(adopt).toBeDisabled();
  expect(await seriousViolations(page)).toEqual([]);
  await snapshot(page, "reconcile-03-reader");
});
