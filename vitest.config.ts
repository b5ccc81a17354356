import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.dirname(new URL(import.meta.url).pathname) } },
  test: {
    include: [
      "lib/**/*.test.ts",
      "sandbox/**/*.test.ts",
      "worker/**/*.test.ts",
      "scripts/**/*.test.ts",
      "app/**/*.test.{ts,tsx}",
      "components/**/*.test.{ts,tsx}",
      "test/**/*.test.ts",
    ],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["./test/global-setup.ts"],
    pool: "forks",
    // Some tests measure time (3 workers beat 1, SIGTERM grace, no 21st request in a second). On CI's
    // 2 cores they run file by file so a neighbouring file cannot starve them; locally files overlap.
    fileParallelism: !process.env.CI,
  },
});
