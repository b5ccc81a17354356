import { defineConfig } from "@playwright/test";

/**
 * End-to-end tests drive Debian's Chromium (Playwright's own browser download is not available here)
 * against the product started exactly as a newcomer starts it (`npm start`), in sandbox mode, on ports
 * and a data directory of its own so it never touches a developer's running instance.
 */
const port = Number(process.env.E2E_PORT ?? 3900);
const sandboxPortBase = Number(process.env.E2E_SANDBOX_PORT_BASE ?? 3950);
export const e2eDataDir = process.env.E2E_DATA_DIR ?? "./data/e2e";

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: process.env.CI ? 1 : 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    ignoreHTTPSErrors: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "npm start",
    url: `http://localhost:${port}/api/health`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
    env: {
      PORT: String(port),
      SANDBOX_PORT_BASE: String(sandboxPortBase),
      DATA_DIR: e2eDataDir,
      SANDBOX: "on",
      LOG_LEVEL: "warn",
    },
  },
});
