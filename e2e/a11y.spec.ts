import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, signIn, snapshot } from "./fixtures";

/**
 * Every console screen, checked with axe-core for serious or critical WCAG 2.x A/AA violations
 * (keyboard, labels, contrast, landmarks). Minor findings are reported in the failure message only.
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

test("no serious or critical accessibility violations on any screen", async ({ page }) => {
  await signIn(page, ADMIN);
  const found: Record<string, string[]> = { connections: await seriousViolations(page) };

  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  const screens: [string, string][] = [
    ["overview", "Overview"],
    ["settings", "Provisioning settings"],
    ["mappings", "Mappings"],
    ["on-demand", "Provision on demand"],
    ["preview", "Preview"],
    ["logs", "Provisioning logs"],
    ["audit", "Audit log"],
  ];
  for (const [name, link] of screens) {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.waitForLoadState("networkidle");
    await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
    found[name] = await seriousViolations(page);
  }
  // The on-demand screen's group mode: group search, member checkboxes and the member results.
  await page.getByRole("link", { name: "Provision on demand", exact: true }).click();
  await page.getByText("A group", { exact: true }).click();
  await page.getByLabel("Search groups").fill("Dialpad");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Dialpad Users/ }).check();
  await expect(page.getByRole("checkbox").first()).toBeVisible();
  found["on-demand-group"] = await seriousViolations(page);

  // The dark theme, chosen in the header: applied at once, kept across a reload, and as accessible.
  await page.getByLabel("Theme").selectOption("dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByLabel("Theme")).toHaveValue("dark");
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).not.toBe("rgb(248, 250, 252)");
  for (const [name, link] of screens) {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.waitForLoadState("networkidle");
    await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
    found[`${name}-dark`] = await seriousViolations(page);
  }
  await snapshot(page, "a11y-dark-theme");
  await page.getByLabel("Theme").selectOption("system");
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  expect(Object.fromEntries(Object.entries(found).filter(([, violations]) => violations.length > 0))).toEqual(
    {},
  );
});
