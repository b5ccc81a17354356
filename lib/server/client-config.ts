import type { ClientAuthConfig, ClientSandboxInfo } from "../client/auth-config";
import { env, isSandboxEnabled, liveSetting } from "../config/env";

export function clientAuthConfig(): ClientAuthConfig | null {
  const settings = env();
  if (!settings.AUTH_AUTHORITY || !settings.AUTH_CLIENT_ID || !settings.AUTH_API_SCOPE) return null;
  return {
    authority: settings.AUTH_AUTHORITY,
    clientId: settings.AUTH_CLIENT_ID,
    apiScope: settings.AUTH_API_SCOPE,
    knownAuthorities: [new URL(settings.AUTH_AUTHORITY).host],
    authorityMetadata: settings.AUTH_AUTHORITY_METADATA,
    // Entra itself speaks MSAL's "AAD" dialect; the sandbox's standard OpenID provider needs "OIDC".
    protocolMode: isSandboxEnabled(settings) ? "OIDC" : "AAD",
  };
}

export function clientSandboxInfo(): ClientSandboxInfo | null {
  const runtime = liveSetting.sandboxRuntime();
  if (!isSandboxEnabled(env()) || !runtime) return null;
  try {
    return JSON.parse(runtime) as ClientSandboxInfo;
  } catch {
    return null;
  }
}
