import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.dirname(new URL(import.meta.url).pathname) } },
  test: {
    include: ["{lib,sandbox,worker,scripts,app,components,bench}/**/*.test.{ts,tsx}"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["./test/global-setup.ts"],
    pool: "forks",
  },
});
