import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import { THEME_COOKIE } from "@/components/theme";
import { clientAuthConfig, clientSandboxInfo } from "@/lib/server/client-config";
import "./globals.css";

export const metadata: Metadata = {
  title: "Dialpad provisioning",
  description: "Provision users and groups from Microsoft Entra ID to Dialpad",
};

// Sign-in settings are read at request time so one build serves every deployment.
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const theme = (await cookies()).get(THEME_COOKIE)?.value;
  return (
    <html lang="en" data-theme={theme === "light" || theme === "dark" ? theme : undefined}>
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        <Providers authConfig={clientAuthConfig()} sandbox={clientSandboxInfo()}>
          {children}
        </Providers>
      </body>
    </html>
  );
}
