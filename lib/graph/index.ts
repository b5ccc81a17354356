export {
  collectAll,
  createGraphClient,
  odataString,
  type DeltaOptions,
  type GraphClient,
  type GraphClientOptions,
  type GraphTokenProvider,
  type ListOptions,
} from "./client";
export {
  GraphAuthError,
  GraphError,
  type GraphAuthErrorCode,
  type GraphErrorInit,
  type GraphRequestInfo,
} from "./errors";
export { createFetchNetworkClient } from "./fetch-network-client";
export { createHttpsNetworkClient, type HttpsNetworkClientOptions } from "./https-network-client";
export {
  createMsalTokenProvider,
  toGraphAuthError,
  type MsalTokenProviderOptions,
} from "./msal-token-provider";
export { parseRetryAfter, type RetryPolicy } from "../net/retry";
export * from "./schemas";
