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
