import type { PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import { lastFour } from "../crypto/secrets";

interface SandboxGraphSettings {
  graph: {
    baseUrl: string;
    authorityHost: string;
    clientId: string;
    clientSecret: string;
    servicePrincipalId: string;
  };
  tenantId: string;
}

/**
 * In sandbox mode the console starts with one connection whose source (the emulated Microsoft Graph)
 * is already configured, so a newcomer only enters the Dialpad tenant URL and key, as in the tutorial.
 * Its Graph addresses follow the sandbox on every start; whatever the admin entered is kept.
 */
export async function ensureSandboxConnection(
  db: PrismaClient,
  box: SecretBox,
  sandbox: SandboxGraphSettings,
): Promise<string> {
  const existing = await db.connection.findFirst({ where: { managedBySandbox: true }, select: { id: true } });
  const id =
    existing?.id ??
    (
      await db.connection.create({
        // Continuous, as every new connection: a change on the sandbox hub reaches the emulated Dialpad
        // within seconds once provisioning is started.
        data: { name: "Dialpad (sandbox)", managedBySandbox: true, scheduleMode: "continuous" },
        select: { id: true },
      })
    ).id;
  await db.connection.update({
    where: { id },
    data: {
      graphAuthorityHost: sandbox.graph.authorityHost,
      graphBaseUrl: sandbox.graph.baseUrl,
      graphTenantId: sandbox.tenantId,
      graphClientId: sandbox.graph.clientId,
      graphClientSecretCipher: box.seal(sandbox.graph.clientSecret, `${id}:graphClientSecret`),
      graphClientSecretLast4: lastFour(sandbox.graph.clientSecret),
      graphClientSecretUpdatedAt: new Date(),
      graphServicePrincipalId: sandbox.graph.servicePrincipalId,
    },
  });
  return id;
}
