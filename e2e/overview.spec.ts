import fs from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { SEED_USERS } from "../sandbox/graph/seed";
import { ADMIN, NO_ROLE, READER, graphAdminUrl, signIn, snapshot } from "./fixtures";

async function openConnection(page: Page): Promise<void> {
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await expect(page.getByRole("link", { name: "Overview", exact: true })).toBeVisible();
}

/**
 * The operator's journey on Entra's Overview blade: start provisioning and watch the first cycle, read
 * its log entries in the detail drawer and download them, then trip accidental-deletion prevention by
 * unassigning two users, see the quarantine explained, and allow the held deletions.
 */
test("an admin starts provisioning, reads the logs, and allows held deletions", async ({ page, request }) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN);
  await openConnection(page);

  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await page.getByRole("button", { name: "Fill in the sandbox Dialpad" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();

  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page.getByTestId("status-badge")).toHaveText("Not run");
  await page.getByRole("button", { name: "Start", exact: true }).click();
  // The notice follows the cycle: queued, then running (it may already have begun when this looks).
  await expect(
    page.getByText(
      /^(Provisioning started: a cycle is queued and begins in a moment\.|The queued cycle is running now\.)$/,
    ),
  ).toBeVisible();
  // The cycle is watched through the UI only: the page polls while a cycle runs.
  await expect
    .poll(async () => Number((await page.getByTestId("count-created").textContent()) ?? 0), {
      timeout: 60_000,
    })
    .toBeGreaterThan(0);
  await expect(page.getByTestId("status-badge")).toHaveText("Active");
  // The progress bar stays once the cycle ended, as in Entra: an initial cycle that succeeded is 100 %.
  const progress = page.getByRole("progressbar", { name: "Cycle progress" });
  await expect(progress).toHaveAttribute("aria-valuenow", "100");
  await expect(page.getByTestId("finished-cycle")).toContainText("Initial cycle completed");
  // The directory's unassigned users are counted as skipped but not logged: the overview says so.
  await expect(page.getByTestId("skipped-explained")).toContainText("counted here but not logged");
  await expect(page.getByText(/^100 % complete/)).toBeVisible();
  // The notice about the queued cycle is gone once that cycle ended: the card above shows the outcome.
  await expect(page.getByText("Provisioning started: a cycle is queued and begins in a moment.")).toHaveCount(
    0,
  );
  // Continuous (the sandbox connection is new): no cycle is scheduled; the next runs when Entra ID
  // changes, and the schedule card says when Graph was last read. Start stays on and says what it does.
  await expect(page.getByTestId("next-cycle")).toHaveText("as soon as Entra ID changes");
  await expect(page.getByRole("heading", { name: "Schedule: continuous" })).toBeVisible();
  await expect(page.getByTestId("last-poll")).not.toHaveText(/Not yet/, { timeout: 30_000 });
  await expect(
    page.getByText(
      "Start runs a cycle now; in continuous mode one runs by itself as soon as Entra ID changes.",
    ),
  ).toBeVisible();
  await snapshot(page, "overview-01-after-first-cycle");

  await page.getByRole("link", { name: "Provisioning logs", exact: true }).click();
  await page.getByLabel("Status").selectOption("Success");
  await page.getByLabel("Action").selectOption("Create");
  // The first cycle writes more than one page of entries: narrow to José by identity as well (assigned
  // through a group, and provisioned by no other journey, so his Create comes from this cycle).
  await page.getByLabel("Identity").fill("José");
  await page.getByRole("button", { name: "Apply" }).click();
  const details = page.getByRole("button", { name: "Details of Create José Müller" });
  await expect(details).toBeVisible();
  await details.click();
  const drawer = page.getByRole("dialog");
  await expect(drawer.getByRole("tab", { name: "Steps" })).toHaveAttribute("aria-selected", "true");
  await expect(drawer.getByRole("tabpanel")).toContainText("(import)");
  await drawer.getByRole("tab", { name: "Troubleshooting & recommendations" }).click();
  await expect(drawer.getByRole("tabpanel")).toContainText("No problems");
  await drawer.getByRole("tab", { name: "Summary" }).click();
  await expect(drawer.getByRole("tabpanel")).toContainText("Change ID");
  await drawer.getByRole("tab", { name: "Modified properties" }).click();
  await expect(drawer.getByRole("cell", { name: "userName", exact: true })).toBeVisible();
  await snapshot(page, "overview-02-log-drawer");
  await page.keyboard.press("Escape");
  await expect(drawer).toHaveCount(0);
  await expect(details).toBeFocused();

  const downloadEvent = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download CSV" }).click();
  const download = await downloadEvent;
  const csv = fs.readFileSync(await download.path(), "utf8");
  expect(csv.split(/\r?\n/)[0]).toContain("Change ID");
  await snapshot(page, "overview-03-logs-filtered");

  // Accidental-deletion prevention with a threshold of 1: two unassignments in one cycle are held.
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await expect(page.getByLabel("Prevent accidental deletions")).toBeChecked();
  await page.getByLabel("Accidental deletion threshold").fill("1");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  for (const user of [SEED_USERS.zoe, SEED_USERS.admin]) {
    const removed = await request.delete(graphAdminUrl(`assignments/${user.id}`), {
      ignoreHTTPSErrors: true,
    });
    expect(removed.ok()).toBe(true);
  }

  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await page.getByRole("button", { name: "Restart", exact: true }).click();
  const restart = page.getByRole("dialog", { name: "Restart provisioning" });
  // Plain words first, the API name second; nothing is forced unless the admin checks it.
  await expect(restart.getByLabel("Run the held deletions")).not.toBeChecked();
  await expect(restart.getByText("(ForceDeletes)")).toBeVisible();
  await restart.getByRole("button", { name: "Restart provisioning" }).click();
  await expect(restart).toHaveCount(0);
  // The banner appears when the cycle ends; the overview polls only while it runs, so refresh until then.
  await expect(async () => {
    await page.getByRole("button", { name: /^Refresh/ }).click();
    await expect(page.getByText("Provisioning has been quarantined")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.getByText("More deletions than your threshold were held.")).toBeVisible();
  await expect(page.getByTestId("status-badge")).toHaveText("Quarantine");
  await expect(page.getByTestId("held-count")).toHaveText("2");
  await snapshot(page, "overview-04-quarantine-held-deletions");

  await page.getByRole("button", { name: "Allow deletes" }).click();
  const confirm = page.getByRole("dialog", { name: "Allow the held deletions?" });
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await confirm.getByRole("button", { name: "Yes, allow deletes" }).click();
  await expect(page.getByText("Executed 2 held deletions.")).toBeVisible();
  await expect(page.getByTestId("held-count")).toHaveCount(0);
  await snapshot(page, "overview-05-deletes-allowed");
});

test("a reader sees the overview but cannot start, stop or restart", async ({ page }) => {
  await signIn(page, READER);
  await openConnection(page);
  await expect(page.getByTestId("status-badge")).toBeVisible();
  for (const name of ["Start", "Stop", "Restart"]) {
    await expect(page.getByRole("button", { name, exact: true })).toBeDisabled();
  }
  // One reason for the three buttons, said once.
  await expect(page.getByText("Your role can view provisioning but not change it (Reader).")).toHaveCount(1);
  await snapshot(page, "overview-06-reader");

  // Why? only reads, so a reader may ask it; Provision stays off.
  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  await page.getByLabel("Search users").fill("Zoë");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Zoë Ångström/ }).check();
  await expect(page.getByRole("button", { name: "Provision", exact: true })).toBeDisabled();
  await page.getByRole("button", { name: "Why? (changes nothing)" }).click();
  await expect(page.getByTestId("explain-decision")).toBeVisible();

  // Settings are read-only for a reader: disabled fields and no invitation to type a new secret.
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await expect(page.getByLabel("Tenant URL")).toBeDisabled();
  await expect(page.getByLabel("Secret token")).toBeDisabled();
  await expect(page.getByText(/Type a new one to replace it/)).toHaveCount(0);
});

test("a person without a role is told so by name, and signing out leaves a way back", async ({ page }) => {
  await signIn(page, NO_ROLE);
  await expect(page.getByText("You have no role for this app")).toBeVisible();
  await expect(page.getByText(/signed in as Noor Norole \(norole@contoso\.example\)/)).toBeVisible();
  await expect(page.getByRole("banner").getByText("Noor Norole")).toBeVisible();
  await expect(page.getByText("Could not load connections")).toHaveCount(0);
  await snapshot(page, "overview-07-no-role");

  await page.getByRole("button", { name: "Sign out" }).click();
  const signInAgain = page
    .getByRole("button", { name: "Sign in with Microsoft Entra ID" })
    .or(page.getByRole("link", { name: "Sign in again" }));
  await expect(signInAgain).toBeVisible();
  await snapshot(page, "overview-08-signed-out");
  // Ending on the identity provider's Signed out page, its link leads back to the console's sign-in.
  const link = page.getByRole("link", { name: "Sign in again" });
  if (await link.isVisible()) await link.click();
  // The way back works: signing in from there (as an admin this time) opens the console again.
  await page.getByRole("button", { name: "Sign in with Microsoft Entra ID" }).click();
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Connections" })).toBeVisible();
  await expect(page.getByRole("banner").getByText("Ada Admin")).toBeVisible();
});
