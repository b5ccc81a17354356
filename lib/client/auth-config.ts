/** What the browser needs to sign in, handed over by the server at request time (not baked into the build). */
export interface ClientAuthConfig {
  authority: string;
  clientId: string;
  apiScope: string;
  knownAuthorities: string[];
  authorityMetadata?: string;
  protocolMode: "AAD" | "OIDC";
}

export interface ClientSandboxInfo {
  hubUrl: string;
  dialpadTenantUrl: string;
  dialpadApiKey: string;
  /** The sandbox hub's webhook catcher (absent when the launcher predates it). */
  webhookUrl?: string;
  webhookSecret?: string;
  accounts: { username: string; password: string; roles: string[] }[];
}
