/**
 * The outbound fetch's one failure for "no connection": refused by the address policy, port closed,
 * connection reset, filtered (connect timeout) or host unreachable all read the same, so an error shown to
 * an admin or a Reader cannot be used to tell an open port from a closed or filtered one.
 * Apart from pinned-fetch.ts so the SCIM and Graph error mappers that read it need no Node networking.
 */
export const OUTBOUND_CONNECT_FAILED = "ECONNECTFAILED";

export class OutboundConnectError extends Error {
  override readonly name = "OutboundConnectError";
  readonly code = OUTBOUND_CONNECT_FAILED;
  /**
   * The policy refused every address, so no connection was attempted and retrying cannot help. Not part
   * of the message: callers only use it to skip retries.
   */
  readonly refusedByPolicy: boolean;
  constructor(target: string, refusedByPolicy: boolean) {
    super(`could not connect to ${target}`);
    this.refusedByPolicy = refusedByPolicy;
  }
}
