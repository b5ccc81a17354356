import { expect, test } from "@playwright/test";
import { SANDBOX_WEBHOOK_SECRET } from "../sandbox/webhooks/catcher";
import { ADMIN, sandboxHubUrl, signIn, snapshot } from "./fixtures";

/**
 * Webhooks in the sandbox: an unsafe URL is refused by field, the sandbox hub's catcher is filled in and
 * saved (the signing secret shown only by its last four), "Send test event" reports the catcher's answer
 * inline, the catcher verified the signature, and the audit log shows the test.
 */
test("an admin sets a webhook to the sandbox catcher and sends a signed test event", async ({
  page,
  request,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Provisioning settings" }).click();

  const webhookUrl = page.getByLabel("Webhook URL");
  await expect(webhookUrl).toBeVisible();
  // Plain http to a public host would carry events unencrypted: refused, with the field named.
  await webhookUrl.fill("http://hooks.example.com/provisioning");
  await page.getByLabel("Signing secret").fill(SANDBOX_WEBHOOK_SECRET);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("The webhook URL must use https.").first()).toBeVisible();

  await page.getByRole("button", { name: "Fill in the sandbox webhook catcher" }).click();
  await expect(webhookUrl).toHaveValue(`${sandboxHubUrl()}/webhook`);
  for (const type of ["cycle.finished", "quarantine.entered", "quarantine.left", "deletions.held"]) {
    await expect(page.getByRole("checkbox", { name: new RegExp(type.replace(".", "\\.")) })).toBeChecked();
  }
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await expect(
    page.getByText(`A secret ending in “${SANDBOX_WEBHOOK_SECRET.slice(-4)}” is saved`, { exact: false }),
  ).toBeVisible();
  await expect(page.getByLabel("Signing secret")).toHaveValue("");

  // The saved URL and secret are used: nothing is typed in the secret field any more.
  const seen = (await (await request.get(`${sandboxHubUrl()}/webhooks.json`)).json()) as { seq: number }[];
  const lastSeq = Math.max(0, ...seen.map((event) => event.seq));
  await page.getByRole("button", { name: "Send test event" }).click();
  await expect(page.getByText("Test event delivered", { exact: true })).toBeVisible();
  await expect(page.getByText(/The receiver answered HTTP 204 in \d+ ms\./)).toBeVisible();
  await snapshot(page, "webhooks-01-settings");

  const events = (await (await request.get(`${sandboxHubUrl()}/webhooks.json`)).json()) as {
    seq: number;
    type: string | null;
    signature: string;
    body: string;
  }[];
  // A cycle of an earlier spec may end meanwhile and send cycle.finished: every event must verify.
  const fresh = events.filter((event) => event.seq > lastSeq);
  expect(fresh.filter((event) => event.type === "webhook.test")).toEqual([
    expect.objectContaining({ signature: "valid" }),
  ]);
  for (const event of fresh) {
    expect(event.signature).toBe("valid");
    expect(event.body).not.toContain(SANDBOX_WEBHOOK_SECRET);
  }
  const hub = await request.get(sandboxHubUrl());
  expect(await hub.text()).toContain("webhook.test — signature valid");

  await page.getByRole("link", { name: "Audit log" }).click();
  const auditRow = page.getByRole("row").filter({ hasText: "Webhook test" }).first();
  await expect(auditRow).toContainText(ADMIN.username);
  await expect(auditRow).toContainText("HTTP 204");
  await expect(page.getByText(SANDBOX_WEBHOOK_SECRET)).toHaveCount(0);
});
