import https from "node:https";
import {
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from "@azure/msal-node";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import selfsigned from "selfsigned";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  SANDBOX_GRAPH_CLIENT,
  SANDBOX_TENANT_ID,
  startGraphEmulator,
  type RunningGraphEmulator,
} from "./server";

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const goodForm = () =>
  form({
    grant_type: "client_credentials",
    client_id: SANDBOX_GRAPH_CLIENT.clientId,
    client_secret: SANDBOX_GRAPH_CLIENT.clientSecret,
    scope: "https://graph.microsoft.com/.default",
  });

describe("token endpoint (plain HTTP)", () => {
  let emulator: RunningGraphEmulator;
  beforeAll(async () => {
    emulator = await startGraphEmulator({ seed: { users: 20 } });
  });
  afterAll(() => emulator.close());

  const post = async (
    body: URLSearchParams,
    tenant = SANDBOX_TENANT_ID,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${emulator.url}/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test("issues a Graph app-only JWT for the right secret, verifiable with the published keys", async () => {
    const { status, body } = await post(goodForm());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
    const token = String(body.access_token);
    const jwks = createRemoteJWKSet(new URL(`${emulator.url}/${SANDBOX_TENANT_ID}/discovery/v2.0/keys`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      audience: "https://graph.microsoft.com",
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256" });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({
      tid: SANDBOX_TENANT_ID,
      appid: SANDBOX_GRAPH_CLIENT.clientId,
      roles: ["User.Read.All", "Group.Read.All", "Application.Read.All", "Directory.Read.All"],
    });
  });

  test("accepts the client secret through HTTP Basic", async () => {
    const basic = Buffer.from(
      `${SANDBOX_GRAPH_CLIENT.clientId}:${encodeURIComponent(SANDBOX_GRAPH_CLIENT.clientSecret)}`,
    ).toString("base64");
    const { status } = await post(
      form({ grant_type: "client_credentials", scope: "https://graph.microsoft.com/.default" }),
      SANDBOX_TENANT_ID,
      { authorization: `Basic ${basic}` },
    );
    expect(status).toBe(200);
  });

  test("answers AADSTS errors for a bad secret, an unknown client, an unknown tenant and a bad scope", async () => {
    const badSecret = await post(form({ ...Object.fromEntries(goodForm()), client_secret: "wrong" }));
    expect(badSecret.status).toBe(401);
    expect(badSecret.body).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(String(badSecret.body.error_description)).toMatch(
      /^AADSTS7000215: Invalid client secret provided/,
    );

    const unknownClient = await post(
      form({ ...Object.fromEntries(goodForm()), client_id: "11111111-2222-3333-4444-555555555555" }),
    );
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.body).toMatchObject({ error: "unauthorized_client", error_codes: [700016] });

    const unknownTenant = await post(goodForm(), "99999999-9999-4999-8999-999999999999");
    expect(unknownTenant.status).toBe(400);
    expect(unknownTenant.body).toMatchObject({ error: "invalid_request", error_codes: [90002] });

    const badScope = await post(form({ ...Object.fromEntries(goodForm()), scope: "User.Read.All" }));
    expect(badScope.body).toMatchObject({ error: "invalid_scope", error_codes: [1002012] });

    const wrongGrant = await post(form({ ...Object.fromEntries(goodForm()), grant_type: "password" }));
    expect(wrongGrant.body).toMatchObject({ error: "unsupported_grant_type" });
  });

  test("discovery document lays out endpoints like login.microsoftonline.com", async () => {
    const response = await fetch(
      `${emulator.url}/${SANDBOX_TENANT_ID}/v2.0/.well-known/openid-configuration`,
    );
    const doc = (await response.json()) as Record<string, string>;
    expect(doc.issuer).toBe(`${emulator.url}/${SANDBOX_TENANT_ID}/v2.0`);
    expect(doc.token_endpoint).toBe(`${emulator.url}/${SANDBOX_TENANT_ID}/oauth2/v2.0/token`);
    expect(doc.jwks_uri).toBe(`${emulator.url}/${SANDBOX_TENANT_ID}/discovery/v2.0/keys`);
    const unknown = await fetch(`${emulator.url}/not-a-tenant/v2.0/.well-known/openid-configuration`);
    expect(unknown.status).toBe(400);
  });

  test("a token whose app lacks a Graph permission gets 403 Authorization_RequestDenied", async () => {
    const narrow = await startGraphEmulator({
      seed: { users: 20 },
      clients: [
        { clientId: "aaaaaaaa-0000-4000-8000-000000000001", clientSecret: "s", roles: ["User.Read.All"] },
      ],
    });
    try {
      const tokenResponse = await fetch(`${narrow.url}/${SANDBOX_TENANT_ID}/oauth2/v2.0/token`, {
        method: "POST",
        body: form({
          grant_type: "client_credentials",
          client_id: "aaaaaaaa-0000-4000-8000-000000000001",
          client_secret: "s",
          scope: "https://graph.microsoft.com/.default",
        }),
      });
      const token = String(((await tokenResponse.json()) as Record<string, unknown>).access_token);
      expect(decodeJwt(token).roles).toEqual(["User.Read.All"]);
      const users = await fetch(`${narrow.url}/v1.0/users?$top=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(users.status).toBe(200);
      const groups = await fetch(`${narrow.url}/v1.0/groups`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(groups.status).toBe(403);
      expect(((await groups.json()) as { error: { code: string } }).error.code).toBe(
        "Authorization_RequestDenied",
      );
    } finally {
      await narrow.close();
    }
  });
});

/**
 * msal-node uses global fetch, which cannot be given a CA per request; a small network client over
 * node:https that trusts the test's self-signed certificate is the least invasive way in.
 */
function networkClientTrusting(ca: string): INetworkModule {
  const send = <T>(
    method: "GET" | "POST",
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const request = https.request(url, { method, ca, headers: options?.headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(response.headers)) if (typeof v === "string") headers[k] = v;
          resolve({
            status: response.statusCode ?? 0,
            headers,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as T,
          });
        });
      });
      request.on("error", reject);
      request.end(options?.body);
    });
  return {
    sendGetRequestAsync: (url, options) => send("GET", url, options),
    sendPostRequestAsync: (url, options) => send("POST", url, options),
  };
}

describe("msal-node over HTTPS", () => {
  let emulator: RunningGraphEmulator;
  let ca: string;
  beforeAll(async () => {
    const pems = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
      keySize: 2048,
      algorithm: "sha256",
      extensions: [
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
    });
    ca = pems.cert;
    emulator = await startGraphEmulator({ tls: { cert: pems.cert, key: pems.private }, seed: { users: 20 } });
  });
  afterAll(() => emulator.close());

  test("ConfidentialClientApplication gets a client-credentials token that Graph accepts", async () => {
    expect(emulator.url).toBe(`https://localhost:${emulator.port}`);
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: SANDBOX_GRAPH_CLIENT.clientId,
        clientSecret: SANDBOX_GRAPH_CLIENT.clientSecret,
        authority: `${emulator.url}/${SANDBOX_TENANT_ID}`,
        knownAuthorities: [`localhost:${emulator.port}`],
      },
      system: { networkClient: networkClientTrusting(ca) },
    });
    const result = await app.acquireTokenByClientCredential({
      scopes: ["https://graph.microsoft.com/.default"],
    });
    expect(result?.accessToken).toBeTruthy();
    expect(decodeJwt(result!.accessToken)).toMatchObject({
      tid: SANDBOX_TENANT_ID,
      aud: "https://graph.microsoft.com",
    });

    const users = await new Promise<number>((resolve, reject) => {
      https
        .get(
          `${emulator.url}/v1.0/users?$top=1`,
          { ca, headers: { authorization: `Bearer ${result!.accessToken}` } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        )
        .on("error", reject);
    });
    expect(users).toBe(200);
  });

  test("a wrong secret surfaces as MSAL's invalid_client error", async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: SANDBOX_GRAPH_CLIENT.clientId,
        clientSecret: "nope",
        authority: `${emulator.url}/${SANDBOX_TENANT_ID}`,
        knownAuthorities: [`localhost:${emulator.port}`],
      },
      system: { networkClient: networkClientTrusting(ca) },
    });
    await expect(
      app.acquireTokenByClientCredential({ scopes: ["https://graph.microsoft.com/.default"] }),
    ).rejects.toMatchObject({ errorCode: "invalid_client" });
  });
});
