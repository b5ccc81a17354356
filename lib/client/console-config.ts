"use client";

import { createContext, useContext } from "react";
import type { ClientAuthConfig, ClientSandboxInfo } from "./auth-config";

/** What the server tells the console at render time: how to sign in, and the sandbox's hints if on. */
export interface ConsoleConfig {
  auth: ClientAuthConfig;
  sandbox: ClientSandboxInfo | null;
}

export const ConsoleConfigContext = createContext<ConsoleConfig | null>(null);

export function useConsoleConfig(): ConsoleConfig {
  const config = useContext(ConsoleConfigContext);
  if (!config) throw new Error("useConsoleConfig outside <Providers>");
  return config;
}
