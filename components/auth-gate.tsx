"use client";

import { InteractionStatus } from "@azure/msal-browser";
import { useIsAuthenticated, useMsal } from "@azure/msal-react";
import { type ReactNode, useEffect } from "react";
import { useConsoleConfig } from "@/lib/client/console-config";
import { Button } from "./ui/button";

export function AuthGate({ children }: { children: ReactNode }) {
  const { instance, inProgress, accounts } = useMsal();
  const isAuthenticated = useIsAuthenticated();
  const { auth, sandbox } = useConsoleConfig();

  useEffect(() => {
    if (!instance.getActiveAccount() && accounts[0]) instance.setActiveAccount(accounts[0]);
  }, [instance, accounts]);

  if (isAuthenticated) return <>{children}</>;
  if (inProgress !== InteractionStatus.None) {
    return (
      <p className="p-8 text-slate-600 dark:text-slate-300" role="status">
        Signing in…
      </p>
    );
  }
  return (
    <main className="mx-auto mt-24 max-w-md rounded-lg border border-slate-200 bg-white p-8 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <h1 className="text-2xl font-semibold">Dialpad provisioning</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-300">
        Provision users and groups from Microsoft Entra ID to Dialpad. Sign in with your work account.
      </p>
      <Button
        className="mt-6 w-full"
        onClick={() => void instance.loginRedirect({ scopes: ["openid", "profile", auth.apiScope] })}
      >
        Sign in with Microsoft Entra ID
      </Button>
      {sandbox && (
        <div className="mt-6 rounded-md bg-amber-50 p-4 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          <p className="font-medium">Sandbox mode</p>
          <p className="mt-1">Sign in with one of the sandbox accounts:</p>
          <ul className="mt-1 list-inside list-disc">
            {sandbox.accounts.map((account) => (
              <li key={account.username}>
                <code>{account.username}</code> / <code>{account.password}</code> (
                {account.roles.join(", ") || "no role"})
              </li>
            ))}
          </ul>
        </div>
      )}
    </main>
  );
}
