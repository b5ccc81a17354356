import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphAuthError } from "./errors";
import { createHttpsNetworkClient } from "./https-network-client";
import { createMsalTokenProvider, type MsalTokenProviderOptions } from "./msal-token-provider";
import {
  closedPortUrl,
  localhostCertificate,
  sendJson,
  startTestServer,
  type RecordedRequest,
  type TestServer,
} from "../../test/http-server";

const TENANT = "7a3c1f0e-0000-4000-8000-00000000c0de";
const CLIENT_ID = "11111111-2222-4333-8444-555555555555";
const SECRET = "s3cr3t~Value.that-must-never-leak";

type TokenBehaviour = (request: RecordedRequest) => { status: number; body: unknown };
let tls: { key: string; cert: string };
let server: TestServer;
let tokenBehaviour: TokenBehaviour;

beforeAll(async () => {
  tls = await localhostCertificate();
  server = await startTestServer((request, response) => {
    const base = `https://${request.headers.host}`;
    if (request.url === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
      return sendJson(response, 200, {
        issuer: `${base}/${TENANT}/v2.0`,
        token_endpoint: `${base}/${TENANT}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/${TENANT}/oauth2/v2.0/authorize`,
        jwks_uri: `${base}/${TENANT}/discovery/v2.0/keys`,
      });
    }
    if (request.url.includes("/.well-known/openid-configuration")) {
      return sendJson(response, 400, {
        error: "invalid_tenant",
        error_description:
          "AADSTS90002: Tenant 'nope' not found. Check to make sure you have the correct tenant ID.",
      });
    }
    if (new URL(request.url, base).pathname === `/${TENANT}/oauth2/v2.0/token`) {
      const { status, body } = tokenBehaviour(request);
      return sendJson(response, status, body);
    }
    sendJson(response, 404, {});
  }, tls);
});
afterAll(async () => {
  await server.close();
});

const issueTokens: TokenBehaviour = (request) => {
  const form = new URLSearchParams(request.body);
  return {
    status: 200,
    body: {
      token_type: "Bearer",
      expires_in: 3599,
      access_token: `token-${form.get("client_id")}-${Math.random()}`,
    },
  };
};

function provider(overrides: Partial<MsalTokenProviderOptions> = {}) {
  return createMsalTokenProvider({
    authorityHost: server.url,
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    networkClient: createHttpsNetworkClient({ ca: tls.cert }),
    ...overrides,
  });
}

const tokenRequests = () => server.requests.filter((request) => request.url.includes("/oauth2/v2.0/token"));

async function authError(promise: Promise<unknown>): Promise<GraphAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphAuthError) return error;
    throw error;
  }
  throw new Error("expected getToken to fail");
}

describe("MSAL client-credentials token provider (local HTTPS authority)", () => {
  test("requests the Graph .default scope with the client secret and caches the token", async () => {
    tokenBehaviour = issueTokens;
    const before = tokenRequests().length;
    const tokens = provider();
    const [first, concurrent] = await Promise.all([tokens.getToken(), tokens.getToken()]);
    const second = await tokens.getToken();
    expect(first).toMatch(new RegExp(`^token-${CLIENT_ID}-`));
    expect(concurrent).toBe(first);
    expect(second).toBe(first);
    expect(tokenRequests().length - before).toBe(1);
    const form = new URLSearchParams(tokenRequests().at(-1)?.body);
    expect(form.get("grant_type")).toBe("client_credentials");
    expect(form.get("scope")).toContain("https://graph.microsoft.com/.default");
    expect(form.get("client_secret")).toBe(SECRET);
  });

  test("forceRefresh fetches a new token; the scope follows a custom Graph URL", async () => {
    tokenBehaviour = issueTokens;
    const tokens = provider({ graphBaseUrl: "https://graph.sandbox.example:8443/v1.0" });
    const first = await tokens.getToken();
    const refreshed = await tokens.getToken({ forceRefresh: true });
    expect(refreshed).not.toBe(first);
    expect(new URLSearchParams(tokenRequests().at(-1)?.body).get("scope")).toContain(
      "https://graph.sandbox.example:8443/.default",
    );
  });

  test("an invalid secret is explained without the secret", async () => {
    tokenBehaviour = () => ({
      status: 401,
      body: {
        error: "invalid_client",
        error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${CLIENT_ID}'.`,
        error_codes: [7000215],
      },
    });
    const error = await authError(provider().getToken());
    expect(error.code).toBe("InvalidClientSecret");
    expect(error.message).toMatch(/client secret .* was rejected/);
    expect(JSON.stringify(error) + error.message + (error.stack ?? "")).not.toContain(SECRET);
  });

  test("an unknown tenant is named as such", async () => {
    const error = await authError(provider({ tenantId: "nope" }).getToken());
    expect(error.code).toBe("UnknownTenant");
    expect(error.message).toMatch(/nope/);
  });

  test("an unreachable authority is named as such", async () => {
    const error = await authError(
      provider({ authorityHost: (await closedPortUrl()).replace("http:", "https:") }).getToken(),
    );
    expect(error.code).toBe("AuthorityUnreachable");
    expect(error.message).not.toContain(SECRET);
  });

  test("an authority whose certificate is not trusted is reported as unreachable, not as a bad secret", async () => {
    const error = await authError(provider({ networkClient: createHttpsNetworkClient() }).getToken());
    expect(error.code).toBe("AuthorityUnreachable");
    expect(error.message).toMatch(/certificate|self[- ]signed/i);
  });
});
