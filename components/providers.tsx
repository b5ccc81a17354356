"use client";

import { type Configuration, PublicClientApplication } from "@azure/msal-browser";
import { MsalProvider } from "@azure/msal-react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useMemo, useState, useSyncExternalStore } from "react";
import type { ClientAuthConfig, ClientSandboxInfo } from "@/lib/client/auth-config";
import { ConsoleConfigContext } from "@/lib/client/console-config";
import { AuthGate } from "./auth-gate";

function createMsal(auth: ClientAuthConfig): PublicClientApplication {
  const origin = window.location.origin;
  const configuration: Configuration = {
    auth: {
      clientId: auth.clientId,
      authority: auth.authority,
      knownAuthorities: auth.knownAuthorities,
      authorityMetadata: auth.authorityMetadata,
      redirectUri: `${origin}/`,
      postLogoutRedirectUri: `${origin}/`,
    },
    cache: { cacheLocation: "sessionStorage" },
    system: { protocolMode: auth.protocolMode === "OIDC" ? "OIDC" : "AAD" },
  };
  return new PublicClientApplication(configuration);
}

const noSubscription = () => () => undefined;

export function Providers({
  authConfig,
  sandbox,
  children,
}: {
  authConfig: ClientAuthConfig | null;
  sandbox: ClientSandboxInfo | null;
  children: ReactNode;
}) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 5_000 } },
      }),
  );
  // MSAL needs the browser (window, crypto, storage). The server render and the hydrating client render
  // both show the loading state; MSAL is created once the client takes over.
  const isClient = useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
  const msal = useMemo(
    () => (isClient && authConfig ? createMsal(authConfig) : null),
    [isClient, authConfig],
  );

  if (!authConfig) {
    return (
      <main className="mx-auto max-w-xl p-8">
        <h1 className="text-xl font-semibold">Sign-in is not configured</h1>
        <p className="mt-2 text-slate-600 dark:text-slate-300">
          Set AUTH_AUTHORITY, AUTH_CLIENT_ID and AUTH_API_SCOPE (see the README), or start without them to use
          the sandbox.
        </p>
      </main>
    );
  }
  if (!msal)
    return (
      <p className="p-8 text-slate-600 dark:text-slate-300" role="status">
        Loading…
      </p>
    );
  return (
    <ConsoleConfigContext.Provider value={{ auth: authConfig, sandbox }}>
      <MsalProvider instance={msal}>
        <QueryClientProvider client={queryClient}>
          <AuthGate>{children}</AuthGate>
        </QueryClientProvider>
      </MsalProvider>
    </ConsoleConfigContext.Provider>
  );
}
