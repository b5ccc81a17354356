export {
  createAdaptiveLimiter,
  type AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type AdaptiveLimiterStats,
} from "./adaptive-limiter";
export {
  createScimClient,
  expectSingleMatch,
  explainForAdmin,
  type GroupReadOptions,
  type ListUsersOptions,
  type ScimClient,
  type ScimClientOptions,
  type ScimExchange,
  type TestConnectionResult,
} from "./client";
export {
  classifyHttpStatus,
  classifyNetworkError,
  describeScimError,
  isScimError,
  ScimError,
  type EntraErrorCode,
  type ScimErrorDescription,
  type ScimRequestInfo,
  type ScimResponseInfo,
} from "./errors";
export { and, eq, type ScimFilter, type ScimFilterValue } from "./filter";
export { unlimited, type RequestLimiter } from "./limiter";
export {
  readTargetSnapshot,
  type ReadTargetSnapshotOptions,
  type SnapshotPage,
  type SnapshotResourceType,
  type SnapshotUnreliableReason,
  type SnapshotVerdict,
} from "./snapshot-reader";
export { parseRetryAfter, type RetryPolicy } from "../net/retry";
export * from "./schemas";
