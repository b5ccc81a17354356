import { expect, test } from "@playwright/test";
import { SANDBOX_DIALPAD_KEY } from "../sandbox/dialpad/server";
import { SEED_USERS } from "../sandbox/graph/seed";
import { ADMIN, READER, dialpadUrl, graphAdminUrl, signIn, snapshot, saveSandboxDialpad } from "./fixtures";

/**
 * "Preview next cycle": the admin changes a user in Entra ID, previews the next cycle, reads the change
 * with its old and new value and the pre-flight checks, applies exactly that plan, and finds the change
 * in Dialpad. A Reader sees the preview but cannot start or apply one.
 */
test("an admin previews the next cycle, reviews it and applies it", async ({ page, request }) => {
  test.setTimeout(180_000);
  const title = `Previewed title ${Date.now()}`;
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page);

  // José is provisioned by the earlier journeys (or by this preview, if this spec runs alone).
  const changed = await request.patch(graphAdminUrl(`users/${SEED_USERS.jose.id}`), {
    data: { jobTitle: title },
    ignoreHTTPSErrors: true,
  });
  expect(changed.ok()).toBe(true);

  await page.getByRole("link", { name: "Preview", exact: true }).click();
  await page.getByRole("button", { name: "Preview next cycle" }).click();
  await expect(page.getByTestId("preview-ready")).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole("list", { name: "Pre-flight checks" })).toContainText("Dialpad API key expiry");
  await expect(page.getByRole("list", { name: "Pre-flight checks" })).toContainText("Offices of new users");

  await page.getByLabel("Show").selectOption("all");
  const jose = page
    .getByRole("list", { name: "Planned operations" })
    .getByRole("listitem")
    .filter({ hasText: "José Müller" });
  await expect(jose).toHaveCount(1);
  await jose.getByText(/attribute\(s\)/).click();
  await expect(jose.getByRole("row", { name: new RegExp(`^title .* ${title}$`) })).toBeVisible();
  await snapshot(page, "preview-01-plan");

  await page.getByRole("button", { name: "Apply this plan" }).click();
  const confirm = page.getByRole("dialog", { name: "Apply the previewed plan?" });
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  // The confirmation says what applying does, from the plan's own counts.
  const updates = Number(await page.getByTestId("plan-update-users").textContent());
  await expect(confirm.getByTestId("apply-consequences")).toContainText(
    `${updates} user${updates === 1 ? "" : "s"}`,
  );
  await expect(confirm.getByTestId("apply-consequences")).toContainText("will be updated in Dialpad.");
  await confirm.getByRole("button", { name: "Yes, apply it" }).click();
  await expect(page.getByTestId("preview-applied")).toBeVisible({ timeout: 90_000 });
  await snapshot(page, "preview-02-applied");

  const filter = encodeURIComponent(`userName eq "${SEED_USERS.jose.upn}"`);
  const found = await request.get(`${dialpadUrl()}/scim/Users?filter=${filter}`, {
    headers: { authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` },
    ignoreHTTPSErrors: true,
  });
  const list = (await found.json()) as { Resources: { title?: string }[] };
  expect(list.Resources[0]?.title).toBe(title);
});

test("a reader sees the preview but cannot start or apply one", async ({ page }) => {
  await signIn(page, READER);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Preview", exact: true }).click();
  await expect(page.getByRole("button", { name: "Preview next cycle" })).toBeDisabled();
  await expect(
    page.getByText("Your role can view previews but not start or apply them (Reader)."),
  ).toBeVisible();
  await snapshot(page, "preview-03-reader");
});
