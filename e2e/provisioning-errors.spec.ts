import { expect, test, type Page } from "@playwright/test";
import { ADMIN, graphAdminUrl, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

const HR_APP_ID = "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09";

async function setTitleSource(page: Page, source: string): Promise<void> {
  await page.getByRole("button", { name: "Edit mapping to title", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Edit attribute mapping: title" });
  await dialog.getByLabel("Mapping type").selectOption("Direct");
  const sourceField = dialog.getByRole("combobox", { name: "Source attribute" });
  await sourceField.fill(source);
  // Typed free text stays as typed. Escape closes the attribute list when it offers matches (with none
  // open, Escape would close the dialog).
  const list = dialog.getByRole("listbox", { name: "Source attributes" });
  if (await list.isVisible()) await sourceField.press("Escape");
  await expect(list).toBeHidden();
  await expect(sourceField).toHaveValue(source);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole("button", { name: "Save", exact: true }).click();
}

async function restoreDefaults(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Mappings", exact: true }).click();
  await page.getByRole("button", { name: "Restore default mappings" }).click();
  await page
    .getByRole("dialog", { name: "Restore default mappings?" })
    .getByRole("button", { name: "Restore defaults" })
    .click();
  await expect(page.getByText("Default mappings restored.", { exact: false })).toBeVisible();
}

/** The overview polls only while a cycle runs: refresh until the badge says what the test waits for. */
async function expectBadge(page: Page, text: string): Promise<void> {
  await expect(async () => {
    await page.getByRole("button", { name: /^Refresh/ }).click();
    await expect(page.getByTestId("status-badge")).toHaveText(text, { timeout: 2_000 });
  }).toPass({ timeout: 90_000 });
}

/**
 * Configuration errors fail fast: Save refuses a misspelled source attribute at its field; an extension
 * attribute the tenant has is accepted; when the tenant later drops it, the next cycle fails at once and
 * the overview says "Failed — configuration" with the fix; restoring the mapping makes it Active again.
 */
test("a bad source attribute is refused on Save, and a cycle that meets one shows Failed — configuration", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page);
  await restoreDefaults(page);

  await setTitleSource(page, "jobTitel");
  await expect(page.getByText("Not saved: 1 problem to fix")).toBeVisible();
  await expect(
    page
      .getByText('the source "jobTitel" is not an attribute of microsoft.graph.user in Microsoft Graph')
      .first(),
  ).toBeVisible();
  await snapshot(page, "config-errors-01-save-refused");

  const registered = await request.post(graphAdminUrl("extensionProperties"), {
    ignoreHTTPSErrors: true,
    data: { appId: HR_APP_ID, appDisplayName: "Contoso HR Sync", name: "jobGrade", targetObjects: ["User"] },
  });
  expect(registered.status()).toBe(201);
  const extension = ((await registered.json()) as { name: string }).name;
  await page.reload();
  await setTitleSource(page, extension);
  await expect(page.getByText("Saved. The next provisioning cycle is a full (initial) cycle.")).toBeVisible();

  // The tenant drops the extension: Graph now answers 400 to a $select of it.
  const removed = await request.delete(graphAdminUrl(`extensionProperties/${extension}`), {
    ignoreHTTPSErrors: true,
  });
  expect(removed.status()).toBe(204);

  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await expectBadge(page, "Failed — configuration");
  await expect(page.getByTestId("configuration-failure-action")).toContainText(
    `Fix the mapping of "${extension}" in Mappings`,
  );
  await snapshot(page, "config-errors-02-failed-configuration");

  // Fixed: the next cycle runs normally and the badge is Active again.
  await restoreDefaults(page);
  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await expectBadge(page, "Active");
  await expect(page.getByTestId("configuration-failure-action")).toHaveCount(0);
});
