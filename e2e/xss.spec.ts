import crypto from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { DIALPAD_USER_ROLE_ID } from "../sandbox/graph/directory";
import { ADMIN, dialpadUrl, signIn, snapshot, saveSandboxDialpad } from "./fixtures";

const PAYLOAD = "<img src=x onerror=alert(1)>";

// The sandbox Graph admin API and the Dialpad emulator's page use the sandbox's self-signed certificate.
test.use({ ignoreHTTPSErrors: true });

function graphUrl(): string {
  const base = Number(process.env.E2E_SANDBOX_PORT_BASE ?? 3950);
  return `https://localhost:${base + 2}`;
}

/** Markup in a directory user's name must show as text: no element is created, no script runs. */
async function expectInert(page: Page) {
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
}

test("a display name made of HTML shows as text in the on-demand result, the logs and Dialpad", async ({
  page,
  request,
}) => {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });

  // On Entra's interval: the user made below must wait for the on-demand run, not a continuous cycle.
  await signIn(page, ADMIN);
  await saveSandboxDialpad(page, { schedule: "interval" });

  const suffix = crypto.randomBytes(4).toString("hex");
  const upn = `xss.${suffix}@contoso.example`;
  const created = await request.post(`${graphUrl()}/_sandbox/users`, {
    data: {
      displayName: PAYLOAD,
      givenName: "<b>Eve</b>",
      surname: `Mallory${suffix}`,
      userPrincipalName: upn,
      mail: upn,
      accountEnabled: true,
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const user = (await created.json()) as { id: string };
  const assigned = await request.post(`${graphUrl()}/_sandbox/assignments`, {
    data: { principalId: user.id, appRoleId: DIALPAD_USER_ROLE_ID },
  });
  expect(assigned.status(), await assigned.text()).toBe(201);

  await page.getByRole("link", { name: "Provision on demand" }).click();
  await page.getByLabel("Search users").fill(upn);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: PAYLOAD }).check();
  await expectInert(page);
  await page.getByRole("button", { name: "Provision", exact: true }).click();
  await expect(page.getByText("Created the user in Dialpad", { exact: false })).toBeVisible();
  await expect(page.getByText(PAYLOAD).first()).toBeVisible();
  await expectInert(page);
  await snapshot(page, "xss-01-on-demand");

  await page.getByRole("link", { name: "Provisioning logs" }).click();
  const row = page.getByRole("row").filter({ hasText: PAYLOAD });
  await expect(row.first()).toContainText("Create");
  await row.first().getByRole("button", { name: "Details" }).click();
  await expect(page.getByText(PAYLOAD).first()).toBeVisible();
  await expectInert(page);
  await snapshot(page, "xss-02-logs");

  // The emulated Dialpad's company page lists the user by name, as text.
  await page.goto(`${dialpadUrl()}/`);
  await expect(page.getByText(PAYLOAD).first()).toBeVisible();
  await expectInert(page);
  await snapshot(page, "xss-03-dialpad");

  expect(dialogs).toEqual([]);
});
