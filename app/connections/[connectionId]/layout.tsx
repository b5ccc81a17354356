"use client";

import Link from "next/link";
import { useParams, usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { ConsoleShell } from "@/components/console-shell";
import { cn } from "@/components/ui/cn";
import { useConnection } from "@/lib/client/connections";

const TABS = [
  { segment: "", label: "Overview" },
  { segment: "/settings", label: "Provisioning settings" },
  { segment: "/mappings", label: "Mappings" },
  { segment: "/on-demand", label: "Provision on demand" },
  { segment: "/preview", label: "Preview" },
  { segment: "/reconcile", label: "Reconcile" },
  { segment: "/logs", label: "Provisioning logs" },
  { segment: "/audit", label: "Audit log" },
];

export default function ConnectionLayout({ children }: { children: ReactNode }) {
  const { connectionId } = useParams<{ connectionId: string }>();
  const pathname = usePathname();
  const connection = useConnection(connectionId);
  const base = `/connections/${connectionId}`;
  return (
    <ConsoleShell>
      <p className="text-sm">
        <Link href="/" className="text-blue-700 hover:underline dark:text-blue-400">
          Connections
        </Link>
      </p>
      <h1 className="mt-1 text-2xl font-semibold">{connection.data?.name ?? "Connection"}</h1>
      <nav aria-label="Connection sections" className="mt-4 border-b border-slate-200 dark:border-slate-800">
        <ul className="-mb-px flex flex-wrap gap-1">
          {TABS.map((tab) => {
            const href = `${base}${tab.segment}`;
            const isActive = pathname === href;
            return (
              <li key={tab.segment}>
                <Link
                  href={href}
                  aria-current={isActive ? "page" : undefined}
                  className={cn(
                    "inline-block border-b-2 px-3 py-2 text-sm font-medium",
                    isActive
                      ? "border-blue-700 text-blue-800 dark:text-blue-300"
                      : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400",
                  )}
                >
                  {tab.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="mt-6">{children}</div>
    </ConsoleShell>
  );
}
