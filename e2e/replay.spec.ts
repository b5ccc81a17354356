import { expect, test } from "@playwright/test";
import { SEED_USERS } from "../sandbox/graph/seed";
import { ADMIN, dialpadUrl, graphAdminUrl, signIn, snapshot, saveSandboxDialpad } from "./fixtures";

async function setDialpadErrorRate(request: import("@playwright/test").APIRequestContext, errorRate: number) {
  const response = await request.put(`${dialpadUrl()}/_sandbox/config`, {
    data: { errorRate },
    ignoreHTTPSErrors: true,
  });
  expect(response.ok()).toBe(true);
}

/**
 * Replay: a change fails while the sandbox Dialpad answers every request with a 500; once Dialpad is
 * well again the admin retries that one change from its log entry, without a restart, and the retry is
 * logged as a new entry linked to the failed one.
 */
test("an admin retries a failed change from its log entry", async ({ page, request }) => {
  test.setTimeout(180_000);
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page, { schedule: "interval" });

  // A change for the retry to send: Seán's title in Entra ID.
  const changed = await request.patch(graphAdminUrl(`users/${SEED_USERS.apostrophe.id}`), {
    data: { jobTitle: `Retried title ${Date.now()}` },
    ignoreHTTPSErrors: true,
  });
  expect(changed.ok()).toBe(true);

  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  await page.getByLabel("Search users").fill("Seán");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Seán O'Brien/ }).check();
  await setDialpadErrorRate(request, 1);
  try {
    await page.getByRole("button", { name: "Provision", exact: true }).click();
    await expect(page.getByText("The request to Dialpad failed")).toBeVisible({ timeout: 60_000 });
  } finally {
    await setDialpadErrorRate(request, 0);
  }

  await page.getByRole("link", { name: "Provisioning logs", exact: true }).click();
  await page.getByLabel("Status").selectOption("Failure");
  await page.getByLabel("Identity").fill("Seán");
  await page.getByRole("button", { name: "Apply" }).click();
  await page
    .getByRole("row")
    .filter({ hasText: "Seán O'Brien" })
    .first()
    .getByRole("button", { name: /Details/ })
    .click();
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("tab", { name: "Troubleshooting & recommendations" }).click();
  await drawer.getByRole("button", { name: "Retry this change now" }).click();
  await expect(drawer.getByTestId("replay-result")).toContainText("Success");
  await snapshot(page, "replay-01-retried");
  await page.keyboard.press("Escape");

  await page.getByLabel("Status").selectOption("");
  await page.getByRole("button", { name: "Apply" }).click();
  const retried = page
    .getByRole("row")
    .filter({ hasText: "Seán O'Brien" })
    .filter({ hasText: "Success" })
    .first();
  await retried.getByRole("button", { name: /Details/ }).click();
  await drawer.getByRole("tab", { name: "Summary" }).click();
  await expect(drawer.getByText("Replay of")).toBeVisible();
});
