import { ConfidentialClientApplication, LogLevel, type INetworkModule } from "@azure/msal-node";
import type { GraphTokenProvider } from "./client";
import { GraphAuthError, type GraphAuthErrorCode } from "./errors";

export interface MsalTokenProviderOptions {
  /** https://login.microsoftonline.com, or the sandbox's https origin. */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /**
   * Hosts MSAL may trust without Microsoft's instance discovery. Defaults to the authority host when it
   * is not a Microsoft cloud host (the sandbox), since MSAL would otherwise ask Microsoft about it.
   */
  knownAuthorities?: string[];
  networkClient?: INetworkModule;
  /** Graph base URL whose origin names the resource; default https://graph.microsoft.com. */
  graphBaseUrl?: string;
  /** Overrides the scope derived from graphBaseUrl. */
  scopes?: string[];
}

const MICROSOFT_AUTHORITY_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoft.com",
  "login.windows.net",
  "login.microsoftonline.us",
  "login.partner.microsoftonline.cn",
]);

/**
 * AADSTS codes an admin can act on. Text: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 */
const AADSTS: Record<
  string,
  { code: GraphAuthErrorCode; message: (options: MsalTokenProviderOptions) => string }
> = {
  AADSTS7000215: {
    code: "InvalidClientSecret",
    message: (o) =>
      `The client secret for application ${o.clientId} was rejected (AADSTS7000215). Paste the secret's Value (not its Secret ID) from Certificates & secrets.`,
  },
  AADSTS7000222: {
    code: "ExpiredClientSecret",
    message: (o) =>
      `The client secret for application ${o.clientId} has expired (AADSTS7000222). Create a new secret in Certificates & secrets.`,
  },
  AADSTS700016: {
    code: "UnknownClient",
    message: (o) =>
      `Application ${o.clientId} was not found in tenant ${o.tenantId} (AADSTS700016). Check the client ID and that the app is registered in this tenant.`,
  },
  AADSTS500011: {
    code: "TokenRequestFailed",
    message: (o) =>
      `Tenant ${o.tenantId} does not know the requested resource (AADSTS500011). Check the Graph scope (${o.scopes?.join(" ") ?? "derived from graphBaseUrl"}).`,
  },
  AADSTS90002: {
    code: "UnknownTenant",
    message: (o) => `Tenant ${o.tenantId} was not found (AADSTS90002). Check the tenant ID.`,
  },
  AADSTS900023: {
    code: "UnknownTenant",
    message: (o) => `"${o.tenantId}" is not a valid tenant ID or domain (AADSTS900023).`,
  },
};

const UNREACHABLE =
  /could not connect|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|CERT_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|ERR_TLS_CERT_ALTNAME_INVALID|certificate|self[- ]signed/i;

function flatten(error: unknown): { texts: string[]; codes: string[] } {
  const texts: string[] = [];
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === "object"; depth += 1) {
    const record = current as Record<string, unknown>;
    for (const key of ["message", "errorMessage", "subError"])
      if (typeof record[key] === "string") texts.push(record[key]);
    for (const key of ["errorCode", "code"]) if (typeof record[key] === "string") codes.push(record[key]);
    current = record.cause ?? record.error;
  }
  return { texts, codes };
}

/** Turns whatever MSAL threw into an admin-facing GraphAuthError without the client secret. */
export function toGraphAuthError(error: unknown, options: MsalTokenProviderOptions): GraphAuthError {
  const { texts, codes } = flatten(error);
  const allText = texts.join(" | ");
  const scrub = (text: string) =>
    options.clientSecret.length >= 4 ? text.replaceAll(options.clientSecret, "[redacted]") : text;
  const aadsts = /AADSTS\d+/.exec(allText)?.[0];
  const known = aadsts ? AADSTS[aadsts] : undefined;
  if (known && aadsts) return new GraphAuthError(known.code, known.message(options), aadsts);

  const host = (() => {
    try {
      return new URL(options.authorityHost).host;
    } catch {
      return options.authorityHost;
    }
  })();
  if (codes.some((code) => code === "untrusted_authority")) {
    return new GraphAuthError(
      "UntrustedAuthority",
      `MSAL does not trust the authority ${host}; add it to knownAuthorities.`,
      "untrusted_authority",
    );
  }
  const unreachable = UNREACHABLE.exec(allText);
  if (unreachable) {
    return new GraphAuthError(
      "AuthorityUnreachable",
      `Could not reach the sign-in authority ${host} (${unreachable[0]}). Check the authority URL and network access.`,
      codes[0],
    );
  }
  if (codes.includes("endpoints_resolution_error") || codes.includes("openid_config_error")) {
    return new GraphAuthError(
      "UnknownTenant",
      `The sign-in authority ${host} has no OpenID configuration for tenant ${options.tenantId}. Check the tenant ID and the authority URL.`,
      "endpoints_resolution_error",
    );
  }
  const summary = (texts[0] ?? "unknown error").slice(0, 500);
  return new GraphAuthError(
    "TokenRequestFailed",
    scrub(`Could not get a Microsoft Graph token for application ${options.clientId}: ${summary}`),
    codes[0],
  );
}

/** Client-credentials tokens for Graph. MSAL keeps the token cached until shortly before it expires. */
export function createMsalTokenProvider(options: MsalTokenProviderOptions): GraphTokenProvider {
  const authorityHost = options.authorityHost.replace(/\/+$/, "");
  const host = new URL(authorityHost).host;
  const knownAuthorities = options.knownAuthorities ?? (MICROSOFT_AUTHORITY_HOSTS.has(host) ? [] : [host]);
  const scopes = options.scopes ?? [
    `${new URL(options.graphBaseUrl ?? "https://graph.microsoft.com").origin}/.default`,
  ];
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authority: `${authorityHost}/${options.tenantId}`,
      knownAuthorities,
    },
    system: {
      ...(options.networkClient ? { networkClient: options.networkClient } : {}),
      loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => {} },
    },
  });

  // Concurrent callers share one token request instead of each hitting the token endpoint.
  let pending: Promise<string> | undefined;

  const discoveryUrl = `${authorityHost}/${options.tenantId}/v2.0/.well-known/openid-configuration`;

  /**
   * MSAL reports every failed OpenID discovery as endpoints_resolution_error, dropping the cause. Asking
   * once more ourselves tells "host unreachable / certificate untrusted" apart from "tenant unknown".
   */
  async function diagnoseDiscovery(): Promise<GraphAuthError> {
    const network = options.networkClient;
    try {
      const response = network
        ? await network.sendGetRequestAsync<unknown>(discoveryUrl)
        : await fetch(discoveryUrl).then(async (r) => ({
            status: r.status,
            body: (await r.json().catch(() => ({}))) as unknown,
          }));
      return toGraphAuthError(
        {
          errorCode: "endpoints_resolution_error",
          message: `HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 500)}`,
        },
        options,
      );
    } catch (probeError) {
      const { texts, codes } = flatten(probeError);
      const reason = UNREACHABLE.exec([...codes, ...texts].join(" "))?.[0] ?? texts[0] ?? "network error";
      return new GraphAuthError(
        "AuthorityUnreachable",
        `Could not reach the sign-in authority ${host} (${reason}). Check the authority URL, network access and its TLS certificate.`,
        codes[0],
      );
    }
  }

  async function acquire(forceRefresh: boolean): Promise<string> {
    let result: Awaited<ReturnType<typeof app.acquireTokenByClientCredential>>;
    try {
      result = await app.acquireTokenByClientCredential({ scopes, skipCache: forceRefresh });
    } catch (error) {
      const mapped = toGraphAuthError(error, options);
      throw mapped.code === "UnknownTenant" && mapped.causeCode === "endpoints_resolution_error"
        ? await diagnoseDiscovery()
        : mapped;
    }
    if (!result?.accessToken)
      throw new GraphAuthError(
        "TokenRequestFailed",
        `The sign-in authority ${host} returned no access token.`,
      );
    return result.accessToken;
  }

  return {
    getToken(getOptions) {
      if (getOptions?.forceRefresh) return acquire(true);
      pending ??= acquire(false).finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
