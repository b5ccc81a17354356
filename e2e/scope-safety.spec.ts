import { expect, test, type Page } from "@playwright/test";
import { SEED_USERS } from "../sandbox/graph/seed";
import { ADMIN, graphAdminUrl, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

const SKIP_LABEL = "Skip deletion of user accounts that go out of scope (SkipOutOfScopeDeletions)";
const SHRINK_LABEL = "Hold deletions when Entra ID returns this many percent fewer users";

/**
 * Starts a cycle from the Overview and waits until the status shows another cycle finished. Compared by
 * the cycle's id: two short cycles can end within the same second, so their shown times can be equal.
 */
async function runCycleFromOverview(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Overview", exact: true }).click();
  const before = await page
    .getByTestId("finished-cycle")
    .getAttribute("data-cycle-id", { timeout: 5_000 })
    .catch(() => null);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await expect(async () => {
    await page.getByRole("button", { name: /^Refresh/ }).click();
    const finished = page.getByTestId("finished-cycle");
    await expect(finished).toBeVisible({ timeout: 2_000 });
    expect(await finished.getAttribute("data-cycle-id")).not.toBe(before);
  }).toPass({ timeout: 90_000 });
}

/**
 * Entra's SkipOutOfScopeDeletions as an admin meets it: the checkbox in Provisioning settings (with the
 * source-shrink limit next to it, which refuses a value out of range by field), and a user unassigned
 * afterwards left active in Dialpad with a Skipped log entry that says why.
 */
test("an admin turns on SkipOutOfScopeDeletions and an unassigned user is skipped, the log says why", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page);

  const skip = page.getByLabel(SKIP_LABEL);
  await expect(skip).not.toBeChecked();
  await skip.check();
  await page.getByLabel(SHRINK_LABEL).fill("0");
  await page.getByRole("button", { name: "Save" }).click();
  // Refused by field: the message sits under the field, which is marked invalid.
  await expect(page.locator("#sourceShrinkPercent-error")).toHaveText("must be at least 1 %");
  await expect(page.getByLabel(SHRINK_LABEL)).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel(SHRINK_LABEL).fill("30");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel(SKIP_LABEL)).toBeChecked();
  await expect(page.getByLabel(SHRINK_LABEL)).toHaveValue("30");
  await snapshot(page, "scope-safety-01-settings");

  // Bertha is assigned directly and used by no other journey: provisioned first, then unassigned.
  await runCycleFromOverview(page);
  const removed = await request.delete(graphAdminUrl(`assignments/${SEED_USERS.unknownOffice.id}`), {
    ignoreHTTPSErrors: true,
  });
  expect(removed.ok()).toBe(true);
  await runCycleFromOverview(page);
  await expect(page.getByTestId("count-disabled")).toHaveText("0");

  await page.getByRole("link", { name: "Provisioning logs", exact: true }).click();
  await page.getByLabel("Status").selectOption("Skipped");
  await page.getByLabel("Identity").fill("Bertha");
  await page.getByRole("button", { name: "Apply" }).click();
  const details = page.getByRole("button", { name: "Details of Other Bertha Berlin" }).first();
  await expect(details).toBeVisible();
  await details.click();
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("tab", { name: "Troubleshooting & recommendations" }).click();
  await expect(drawer.getByRole("tabpanel")).toContainText(
    "The user went out of scope, and SkipOutOfScopeDeletions is set, so it was not disabled in Dialpad.",
  );
  await snapshot(page, "scope-safety-02-skipped-log");
  await page.keyboard.press("Escape");

  // Back to Entra's default, so journeys after this one see out-of-scope users disabled.
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await page.getByLabel(SKIP_LABEL).uncheck();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
});
