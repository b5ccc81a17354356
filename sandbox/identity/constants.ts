// Shared identifiers of the sandbox tenant. Entra identifies tenants and apps by GUIDs; using GUID-shaped
// values here keeps code that validates or displays them honest when it meets the real service.

/** Directory (tenant) id of the sandbox tenant; appears in the authority path, `iss` and `tid`. */
export const SANDBOX_TENANT_ID = "4f1c5b6e-7d8a-4e2b-9c3d-1a2b3c4d5e6f";

/** Application (client) id of the console SPA registration in the sandbox tenant. */
export const SANDBOX_CONSOLE_CLIENT_ID = "8b3e2f1a-6c4d-4e9b-a7f2-3d5c1b9e0a74";

/** Application ID URI of the provisioning API; access tokens carry it as `aud`. */
export const SANDBOX_API_AUDIENCE = "api://dialpad-provisioning";

/** The only delegated scope the API exposes (Entra puts the bare name in `scp`). */
export const API_SCOPE_NAME = "access_as_user";

/** Where the console SPA is served in the sandbox; MSAL's redirect URI is the console root. */
export const SANDBOX_CONSOLE_ORIGIN = "https://localhost:3000";

/**
 * Daemon (client-credentials) apps registered in the sandbox tenant, each holding one app role of the
 * API, as a pipeline's or runbook's registration would after admin consent. Sandbox-only secrets.
 */
export const SANDBOX_DAEMON_APPS = [
  {
    clientId: "3c7d9e2b-5a1f-4c8e-b2d6-9f0a1e3c5b27",
    clientSecret: "sandbox-daemon-admin-secret-1",
    /** Object id of the app's service principal: `oid` (and `sub`) of its tokens. */
    objectId: "6e2a4c8d-0b3f-4a1e-9d7c-5b8f2e1a4c63",
    name: "Provisioning pipeline (sandbox)",
    roles: ["Provisioning.Admin"],
  },
  {
    clientId: "7a1e3c5b-9d2f-4e6a-8c0b-1d3f5a7c9e42",
    clientSecret: "sandbox-daemon-reader-secret-1",
    objectId: "1b9d3f5a-7c2e-4d8b-a6f0-3e5c7a9b1d84",
    name: "Provisioning report runbook (sandbox)",
    roles: ["Provisioning.Reader"],
  },
] as const;
