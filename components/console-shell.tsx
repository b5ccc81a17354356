"use client";

import { useMsal } from "@azure/msal-react";
import Link from "next/link";
import type { ReactNode } from "react";
import { useMe } from "@/lib/client/me";
import { isNoRole, useSignedInAccount } from "./no-role";
import { ThemeSwitch } from "./theme-switch";
import { Badge } from "./ui/badge";
import { Button } from "./ui/button";

export function ConsoleShell({ children }: { children: ReactNode }) {
  const { instance } = useMsal();
  const me = useMe();
  const account = useSignedInAccount();
  const noRole = isNoRole(me.error) || (me.data !== undefined && me.data.roles.length === 0);
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3">
          <Link href="/" className="font-semibold">
            Dialpad provisioning
          </Link>
          <div className="flex items-center gap-3 text-sm">
            <ThemeSwitch />
            {me.data && !noRole && (
              <>
                <span>{me.data.name || me.data.upn}</span>
                <Badge tone={me.data.canWrite ? "info" : "neutral"}>
                  {me.data.canWrite ? "Admin" : "Read only"}
                </Badge>
              </>
            )}
            {noRole && (
              <>
                <span>{me.data?.name || account?.name}</span>
                <Badge tone="warning">No role</Badge>
              </>
            )}
            <Button
              variant="ghost"
              // The account's ID token goes along as id_token_hint, which lets the identity provider
              // send the browser back here (to the sign-in page) instead of ending on its own page.
              onClick={() =>
                void instance.logoutRedirect({ account: instance.getActiveAccount() ?? undefined })
              }
            >
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}
