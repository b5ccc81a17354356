import { expect, test } from "@playwright/test";
import { ADMIN, READER, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

/**
 * The target self-test on the Provisioning settings page, against the sandbox Dialpad: the admin saves
 * the sandbox tenant URL and key (whatever earlier journeys left there), runs the self-test with its
 * one temporary user, and reads a pass for every check the sandbox supports.
 */
test("an admin runs the target self-test against the sandbox Dialpad", async ({ page }) => {
  await signIn(page, ADMIN);
  // The self-test uses the saved settings, so save the sandbox ones first.
  await saveSandboxDialpad(page);

  const card = page
    .locator("section")
    .filter({ has: page.getByRole("heading", { name: "Target self-test", exact: true }) });
  await expect(card.getByText(/creates and deletes one temporary user/)).toBeVisible();
  const consent = card.getByRole("checkbox", { name: /Include write checks/ });
  await expect(consent).toBeChecked();

  const run = card.getByRole("button", { name: "Run self-test" });
  await expect(run).toBeEnabled();
  await run.click();
  await expect(card.getByText(/^Self-test finished: \d+ passed/)).toBeVisible({ timeout: 60_000 });
  await expect(card.getByText(/temporary user created and deleted/)).toBeVisible();

  const checks = card.getByRole("list", { name: "Checks" }).getByRole("listitem");
  await expect(checks.first()).toBeVisible();
  expect(await checks.count()).toBeGreaterThanOrEqual(14);
  // Which attributes are probed follows the saved mappings; every one of them must pass.
  const filters = checks.filter({ has: page.getByText(/^Filter (users|groups) by /) });
  expect(await filters.count()).toBeGreaterThanOrEqual(1);
  for (const item of await filters.all()) await expect(item.getByText("Pass", { exact: true })).toBeVisible();
  // The sandbox Dialpad implements everything the engine relies on, including rate-limit headers.
  for (const title of [
    "ServiceProviderConfig",
    "Schemas and ResourceTypes",
    "Mapped attributes declared by the target",
    "Filter values with quotes and backslashes",
    "404 for a user that does not exist",
    "Create a temporary user",
    "Filter finds an existing user",
    "Pagination (startIndex and count)",
    'PATCH op casing ("Replace" and "replace")',
    "PATCH active with Booleans",
    "409 for a duplicate userName",
    "Delete the temporary user",
    "Rate-limit headers",
  ]) {
    const item = checks.filter({ has: page.getByText(title, { exact: true }) });
    await expect(item, title).toHaveCount(1);
    await expect(item.getByText("Pass", { exact: true }), title).toBeVisible();
  }
  await expect(card.getByText("Fail", { exact: true })).toHaveCount(0);
  // Each check says what the engine does about it.
  await expect(
    checks
      .filter({ has: page.getByText('PATCH op casing ("Replace" and "replace")', { exact: true }) })
      .getByText(/The engine sends PATCH ops in Entra's casing/),
  ).toBeVisible();
  await snapshot(page, "self-test-01-report");

  // The run is in the audit log with its counts.
  await page.getByRole("link", { name: "Audit log", exact: true }).click();
  const entry = page
    .getByRole("row")
    .filter({ has: page.getByRole("cell", { name: "Target self-test", exact: true }) })
    .first();
  await expect(entry).toContainText(/\d+ passed, \d+ warnings, 0 failed, 0 skipped/);
  await expect(entry).toContainText("created and deleted");
});

test("a reader sees why the self-test cannot be run", async ({ page }) => {
  await signIn(page, READER);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  const run = page.getByRole("button", { name: "Run self-test" });
  await expect(run).toBeDisabled();
  await expect(run).toHaveAccessibleDescription(/Only a Provisioning\.Admin can run the self-test/);
});
