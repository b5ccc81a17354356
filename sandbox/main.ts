/**
 * Runs every sandbox service on loopback so the product can be seen working without an Entra tenant or
 * a Dialpad company: sign-in (OpenID provider), Microsoft Graph, Dialpad SCIM, and an SMTP catcher with
 * a small hub page linking them. Started by the launcher (npm start) as a child process; it reports its
 * addresses over IPC and exits when the launcher goes away.
 */
import path from "node:path";
import { startDialpadEmulator, SANDBOX_DIALPAD_KEY, type RunningDialpadEmulator } from "./dialpad/server";
import {
  DIALPAD_SERVICE_PRINCIPAL_ID,
  SANDBOX_GRAPH_CLIENT,
  startGraphEmulator,
  type RunningGraphEmulator,
} from "./graph/server";
import { SANDBOX_ACCOUNTS, startIdentityProvider, type RunningIdentityProvider } from "./identity/server";
import { SANDBOX_API_AUDIENCE, SANDBOX_CONSOLE_CLIENT_ID, SANDBOX_TENANT_ID } from "./identity/constants";
import { startMailCatcher, type RunningMailCatcher } from "./mail/server";
import { addHandMadeUsers } from "./dialpad/by-hand";
import { startHub } from "./hub";
import { createWebhookCatcher, SANDBOX_WEBHOOK_SECRET, type WebhookCatcher } from "./webhooks/catcher";
import { ensureSandboxTls } from "./tls";

export interface SandboxRuntime {
  tenantId: string;
  identity: { url: string; authority: string; issuer: string; jwksUri: string; authorityMetadata: string };
  console: { clientId: string; apiAudience: string; apiScope: string };
  graph: {
    url: string;
    baseUrl: string;
    authorityHost: string;
    clientId: string;
    clientSecret: string;
    servicePrincipalId: string;
  };
  dialpad: { url: string; tenantUrl: string; apiKey: string };
  mail: { host: string; port: number };
  /** The hub's webhook catcher: it verifies signatures with `secret`. */
  webhook: { url: string; secret: string };
  hubUrl: string;
  accounts: { username: string; password: string; roles: string[] }[];
  certPath: string;
}

export interface RunningSandbox {
  runtime: SandboxRuntime;
  identity: RunningIdentityProvider;
  graph: RunningGraphEmulator;
  dialpad: RunningDialpadEmulator;
  mail: RunningMailCatcher;
  webhooks: WebhookCatcher;
  close(): Promise<void>;
}

export async function startSandbox(options: {
  dataDir: string;
  portBase: number;
  consoleOrigin: string;
  tlsDir?: string;
  /** Keeps the emulated Dialpad company here across restarts; without it the company lives in memory only. */
  stateDir?: string;
  /** Seed Dialpad with users created "by hand" (orphans for the reconcile report). */
  dialpadByHand?: boolean;
}): Promise<RunningSandbox> {
  const tls = await ensureSandboxTls(options.tlsDir ?? path.join(options.dataDir, "sandbox-tls"));
  const base = options.portBase;
  const port = (offset: number) => (base === 0 ? 0 : base + offset);
  const identity = await startIdentityProvider({
    port: port(1),
    tls,
    tenantId: SANDBOX_TENANT_ID,
    consoleClient: {
      clientId: SANDBOX_CONSOLE_CLIENT_ID,
      redirectUris: [options.consoleOrigin, `${options.consoleOrigin}/`],
      postLogoutRedirectUris: [options.consoleOrigin, `${options.consoleOrigin}/`],
    },
    apiAudience: SANDBOX_API_AUDIENCE,
  });
  const graph = await startGraphEmulator({ port: port(2), tls, tenantId: SANDBOX_TENANT_ID });
  // The console keeps its links to Dialpad users in its database, so the company they point at must
  // outlive a restart too; Graph needs no file, its seed is deterministic.
  const dialpad = await startDialpadEmulator({
    port: port(3),
    tls,
    ...(options.stateDir ? { stateFile: path.join(options.stateDir, "dialpad.json") } : {}),
  });
  if (options.dialpadByHand) addHandMadeUsers(dialpad.company);
  const mail = await startMailCatcher({ port: port(25) });
  const graphUrl = graph.url;

  const runtime: SandboxRuntime = {
    tenantId: SANDBOX_TENANT_ID,
    identity: {
      url: identity.url,
      authority: identity.authority,
      issuer: identity.issuer,
      jwksUri: identity.jwksUri,
      authorityMetadata: identity.authorityMetadata,
    },
    console: {
      clientId: SANDBOX_CONSOLE_CLIENT_ID,
      apiAudience: SANDBOX_API_AUDIENCE,
      apiScope: `${SANDBOX_API_AUDIENCE}/access_as_user`,
    },
    graph: {
      url: graphUrl,
      baseUrl: `${graphUrl}/v1.0`,
      authorityHost: graphUrl,
      clientId: SANDBOX_GRAPH_CLIENT.clientId,
      clientSecret: SANDBOX_GRAPH_CLIENT.clientSecret,
      servicePrincipalId: DIALPAD_SERVICE_PRINCIPAL_ID,
    },
    dialpad: { url: dialpad.url, tenantUrl: `${dialpad.url}/scim`, apiKey: SANDBOX_DIALPAD_KEY },
    mail: { host: mail.host, port: mail.port },
    webhook: { url: "", secret: SANDBOX_WEBHOOK_SECRET },
    hubUrl: "",
    accounts: SANDBOX_ACCOUNTS.map((account) => ({
      username: account.username,
      password: account.password,
      roles: account.roles,
    })),
    certPath: tls.certPath,
  };

  const webhooks = createWebhookCatcher({ secret: SANDBOX_WEBHOOK_SECRET });
  const hub = await startHub({ runtime, graph, dialpad, mail, webhooks }, port(0));
  runtime.hubUrl = `http://localhost:${hub.port}`;
  runtime.webhook.url = `${runtime.hubUrl}/webhook`;

  return {
    runtime,
    identity,
    graph,
    dialpad,
    mail,
    webhooks,
    async close() {
      await Promise.allSettled([identity.close(), graph.close(), dialpad.close(), mail.close(), hub.close()]);
    },
  };
}

async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR ?? "./data";
  const portBase = Number(process.env.SANDBOX_PORT_BASE ?? 3100);
  const consoleOrigin = process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`;
  const sandbox = await startSandbox({
    dataDir,
    portBase,
    consoleOrigin,
    stateDir: path.join(dataDir, "sandbox-state"),
    dialpadByHand: process.env.SANDBOX_DIALPAD_BY_HAND === "1",
  });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    void sandbox.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // The launcher holds the other end of the IPC channel; when it dies (even by SIGKILL) we follow.
  process.on("disconnect", shutdown);
  if (process.send) process.send({ type: "sandbox-ready", runtime: sandbox.runtime });
  else console.log(JSON.stringify(sandbox.runtime, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("sandbox/main.ts")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
