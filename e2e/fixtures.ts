import fs from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";

export const ADMIN = { username: "admin@contoso.example", password: "Admin-sandbox-1" };
export const READER = { username: "reader@contoso.example", password: "Reader-sandbox-1" };
export const NO_ROLE = { username: "norole@contoso.example", password: "Norole-sandbox-1" };

/** Signs in through the sandbox OpenID provider's real login page, as a person would. */
export async function signIn(page: Page, account: { username: string; password: string }): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Sign in with Microsoft Entra ID" }).click();
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Connections" })).toBeVisible();
}

const artifactsDir = path.resolve("e2e", "artifacts");

/** Keeps a screenshot of each screen the journey passes through (e2e/artifacts, ignored by git). */
export async function snapshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/** The sandbox runtime as the launcher advertised it to the console (hub page lists the same). */
export function sandboxHubUrl(): string {
  const base = Number(process.env.E2E_SANDBOX_PORT_BASE ?? 3950);
  return `http://localhost:${base}`;
}

export function dialpadUrl(): string {
  const base = Number(process.env.E2E_SANDBOX_PORT_BASE ?? 3950);
  return `https://localhost:${base + 3}`;
}

/** The sandbox Graph emulator's control API (no token, loopback only), two ports above the hub. */
export function graphAdminUrl(path: string): string {
  const base = Number(process.env.E2E_SANDBOX_PORT_BASE ?? 3950);
  return `https://localhost:${base + 2}/_sandbox/${path}`;
}

/** Opens the sandbox connection's settings and saves the sandbox Dialpad tenant URL and key there. */
/**
 * The sandbox Dialpad's URL and key, saved. `schedule: "interval"` for a spec that changes the directory
 * and then acts by hand (on demand, a retry): a continuous connection would carry the change first.
 */
export async function saveSandboxDialpad(
  page: Page,
  options: { schedule?: "continuous" | "interval" } = {},
): Promise<void> {
  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await page.getByRole("button", { name: "Fill in the sandbox Dialpad" }).click();
  if (options.schedule) await page.getByLabel("Schedule", { exact: true }).selectOption(options.schedule);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
}
