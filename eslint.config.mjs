import js from "@eslint/js";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

const domainCore = [
  "lib/mapping/**",
  "lib/scoping/**",
  "lib/scim/**",
  "lib/graph/**",
  "lib/net/**",
  "lib/sync/**",
];

/** lib is below the console: it serves components/ and app/ and never imports them. */
const notTheConsole = {
  group: ["@/components/*", "**/components/**", "@/app/*", "**/app/**"],
  message: "lib/ never imports the console (components/, app/).",
};

/** Flat config does not merge a rule's options: every lib block repeats the patterns it must keep. */
export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      "data/**",
      "lib/db/generated/**",
      "test-results/**",
      "playwright-report/**",
      "e2e/artifacts/**",
      "next-env.d.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    plugins: { "@next/next": nextPlugin, "react-hooks": reactHooks },
    rules: { ...nextPlugin.configs.recommended.rules, ...reactHooks.configs.recommended.rules },
  },
  {
    // lib is below the console: it serves components/ and app/ and never imports them.
    files: ["lib/**/*.{ts,tsx}"],
    ignores: ["lib/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [notTheConsole],
        },
      ],
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Read settings through lib/config (env() or liveSetting), the one reader of process.env.",
        },
      ],
    },
  },
  {
    files: domainCore,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["next", "next/*", "react", "react-dom"],
              message: "The domain core must not depend on Next.js or React.",
            },
            {
              group: ["@prisma/*", "**/lib/db/**", "@/lib/db/*", "../db/*", "server-only"],
              message: "The domain core must not depend on Prisma.",
            },
            {
              group: [
                "**/lib/server/**",
                "@/lib/server/*",
                "../server/*",
                "**/lib/jobs/**",
                "@/lib/jobs/*",
                "../jobs/*",
              ],
              message: "The domain core is called by lib/server and lib/jobs, never the other way round.",
            },
            notTheConsole,
          ],
        },
      ],
    },
  },
  {
    // The job store is generic: kinds are declared by their owners, which it never imports.
    files: ["lib/jobs/**"],
    ignores: ["lib/jobs/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "**/sync/**",
                "**/server/**",
                "**/notify/**",
                "**/scim/**",
                "**/graph/**",
                "**/cycle/**",
              ],
              message:
                "lib/jobs knows no kind of job: its owners declare kinds and hooks (lib/jobs/kind.ts).",
            },
            notTheConsole,
          ],
        },
      ],
    },
  },
  {
    files: ["lib/config/**"],
    rules: { "no-restricted-properties": "off" },
  },
  { files: ["**/*.{js,mjs,cjs}"], ...tseslint.configs.disableTypeChecked },
);
