import fs from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { SANDBOX_DIALPAD_KEY } from "../sandbox/dialpad/server";
import { ADMIN, dialpadUrl, sandboxHubUrl, saveSandboxDialpad, signIn, snapshot } from "./fixtures";

/**
 * The newcomer's journey as Admin, screen by screen: every console screen is visited in the light and
 * the dark theme, kept as a screenshot (e2e/artifacts/journey-*) and checked with axe-core for serious
 * or critical WCAG 2.x A/AA violations (keyboard, labels, contrast, landmarks). On the way the sandbox
 * is restarted, and the emulated Dialpad must still hold what the console provisioned before.
 */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes
          .map((node) => node.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    );
}

/** The connection's screens, by the link that opens each. */
const SCREENS: [string, string][] = [
  ["overview", "Overview"],
  ["settings", "Provisioning settings"],
  ["mappings", "Mappings"],
  ["on-demand", "Provision on demand"],
  ["preview", "Preview"],
  ["reconcile", "Reconcile"],
  ["logs", "Provisioning logs"],
  ["audit", "Audit log"],
];

async function settled(page: Page): Promise<void> {
  await page.waitForLoadState("networkidle");
  await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
}

/** "Why?" for José: the on-demand screen with the decision and every mapping evaluated. */
async function explainJose(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  await page.getByLabel("Search users").fill("José");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /José Müller/ }).check();
  await page.getByRole("button", { name: "Why? (changes nothing)" }).click();
  await expect(
    page.getByRole("table", { name: /Attribute mappings, evaluated for this user/ }),
  ).toBeVisible();
}

async function dialpadUsers(request: APIRequestContext, userName: string): Promise<number> {
  const filter = encodeURIComponent(`userName eq "${userName}"`);
  const found = await request.get(`${dialpadUrl()}/scim/Users?filter=${filter}`, {
    headers: { authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` },
    ignoreHTTPSErrors: true,
  });
  expect(found.ok()).toBe(true);
  return ((await found.json()) as { totalResults: number }).totalResults;
}

/** The sandbox child of the `npm start` Playwright runs, as the launcher lists it in DATA_DIR. */
function sandboxPid(): number | undefined {
  const dataDir = path.resolve(process.env.E2E_DATA_DIR ?? "./data/e2e");
  const pids = JSON.parse(fs.readFileSync(path.join(dataDir, "processes.json"), "utf8")) as number[];
  return pids.find((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes("PROCESS_NAME=sandbox");
    } catch {
      return false;
    }
  });
}

test("the newcomer's journey: every screen as Admin, light and dark, axe clean, across a sandbox restart", async ({
  page,
  request,
}) => {
  test.setTimeout(360_000);
  const found: Record<string, string[]> = {};
  const visit = async (name: string, theme: "light" | "dark") => {
    await settled(page);
    found[`${name}-${theme}`] = await seriousViolations(page);
    await snapshot(page, `journey-${name}-${theme}`);
  };

  await signIn(page, ADMIN);
  await page.getByLabel("Theme").selectOption("light");
  await visit("connections", "light");

  // The tutorial's steps: the Dialpad tenant URL and key, one user on demand, a preview and a report.
  await saveSandboxDialpad(page);
  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  // Not Zoë, whom the foundation spec after this one provisions as a first-time create.
  await page.getByLabel("Search users").fill("Nomail");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Nomail Tester/ }).check();
  await page.getByRole("button", { name: "Provision", exact: true }).click();
  await expect(page.getByText("Created the user in Dialpad", { exact: false })).toBeVisible();
  await page.getByRole("link", { name: "Preview", exact: true }).click();
  await page.getByRole("button", { name: "Preview next cycle" }).click();
  await expect(page.getByTestId("preview-ready")).toBeVisible({ timeout: 90_000 });
  await page.getByRole("link", { name: "Reconcile", exact: true }).click();
  await page.getByRole("button", { name: "Run reconcile" }).click();
  await expect(page.getByRole("status").filter({ hasText: /^succeeded/ })).toBeVisible({ timeout: 90_000 });

  // The sandbox restarted (as after stopping and starting `npm start`): the launcher brings it back on
  // the same ports, and the emulated Dialpad comes back from DATA_DIR with the user provisioned above.
  expect(await dialpadUsers(request, "nomail.tester@contoso.example")).toBe(1);
  const before = sandboxPid();
  expect(before).toBeDefined();
  process.kill(before!, "SIGTERM");
  await expect
    .poll(
      async () => {
        const hub = await request.get(sandboxHubUrl()).catch(() => undefined);
        const pid = sandboxPid();
        return Boolean(hub?.ok()) && pid !== undefined && pid !== before;
      },
      { timeout: 60_000 },
    )
    .toBe(true);
  expect(await dialpadUsers(request, "nomail.tester@contoso.example")).toBe(1);

  for (const theme of ["light", "dark"] as const) {
    await page.getByLabel("Theme").selectOption(theme);
    if (theme === "dark") {
      // Applied at once and kept across a reload, with a dark page behind it.
      await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
      await page.reload();
      await expect(page.getByLabel("Theme")).toHaveValue("dark");
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).not.toBe("rgb(248, 250, 252)");
      await page.getByRole("link", { name: "Dialpad provisioning", exact: true }).click();
      await visit("connections", theme);
    }
    if (!page.url().includes("/connections/")) {
      await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
    }
    for (const [name, link] of SCREENS) {
      await page.getByRole("link", { name: link, exact: true }).click();
      await visit(name, theme);
    }
    await explainJose(page);
    await visit("why", theme);
    // The on-demand screen's group mode: group search, member checkboxes.
    await page.getByText("A group", { exact: true }).click();
    await page.getByLabel("Search groups").fill("Dialpad");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("radio", { name: /Dialpad Users/ }).check();
    await expect(page.getByRole("checkbox").first()).toBeVisible();
    await visit("on-demand-group", theme);
    // A provisioning log entry's details.
    await page.getByRole("link", { name: "Provisioning logs", exact: true }).click();
    await page
      .getByRole("button", { name: /^Details of .*Nomail Tester/ })
      .first()
      .click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await visit("log-details", theme);
    await page.keyboard.press("Escape");
    await expect(page.getByRole("dialog")).toHaveCount(0);
  }
  await page.getByLabel("Theme").selectOption("system");
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  expect(Object.fromEntries(Object.entries(found).filter(([, violations]) => violations.length > 0))).toEqual(
    {},
  );
});
