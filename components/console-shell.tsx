"use client";

import { useMsal } from "@azure/msal-react";
import Link from "next/link";
import type { ReactNode } from "react";
import { useMe } from "@/lib/client/use-me";
import { ThemeSwitch } from "./theme-switch";
import { Badge } from "./ui/badge";
import { Button } from "./ui/button";

export function ConsoleShell({ children }: { children: ReactNode }) {
  const { instance } = useMsal();
  const me = useMe();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3">
          <Link href="/" className="font-semibold">
            Dialpad provisioning
          </Link>
          <div className="flex items-center gap-3 text-sm">
            <ThemeSwitch />
            {me.data && (
              <>
                <span>{me.data.name || me.data.upn}</span>
                <Badge tone={me.data.canWrite ? "info" : "neutral"}>
                  {me.data.canWrite ? "Admin" : "Read only"}
                </Badge>
              </>
            )}
            <Button variant="ghost" onClick={() => void instance.logoutRedirect()}>
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}
