/**
 * Recognises "the database is not answering" among the shapes it takes by the time it reaches a
 * caller: node-postgres socket and timeout errors (thrown as they are by the Prisma pg adapter), the
 * adapter's own kinds (DatabaseNotReachable, ConnectionClosed, …) inside a Prisma error's meta,
 * Prisma's connection error codes, and PostgreSQL refusing work while it starts, stops or recovers.
 * Such a failure is an outage to wait out (503), not a bug in the request (500).
 */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EAI_AGAIN",
]);

/** P1001 can't reach, P1002/P1008 timed out, P1017 server closed the connection, P2024 pool timeout. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);

const ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);

/**
 * SQLSTATE class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now:
 * starting up or recovering), 53300 too many connections.
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith("08") || ["57P01", "57P02", "57P03", "53300"].includes(code);
}

const MESSAGES = [
  "can't reach database server",
  "connection terminated",
  "timeout exceeded when trying to connect",
  "query read timeout",
  "connection ended unexpectedly",
  "client has encountered a connection error",
  "terminating connection due to",
  "the database system is starting up",
  "the database system is shutting down",
  "the database system is in recovery mode",
  "server closed the connection unexpectedly",
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  kind?: unknown;
  meta?: { driverAdapterError?: unknown; code?: unknown };
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length) {
    const current = pending.pop();
    if (!current || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const candidate = current as ErrorLike;
    if (typeof candidate.code === "string") {
      if (SOCKET_CODES.has(candidate.code) || PRISMA_CODES.has(candidate.code)) return true;
      if (/^[0-9A-Z]{5}$/.test(candidate.code) && isUnavailableSqlState(candidate.code)) return true;
    }
    if (typeof candidate.kind === "string") {
      if (ADAPTER_KINDS.has(candidate.kind)) return true;
    }
    if (typeof candidate.message === "string") {
      const message = candidate.message.toLowerCase();
      if (MESSAGES.some((fragment) => message.includes(fragment))) return true;
    }
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
    if (typeof candidate.meta?.code === "string") pending.push({ code: candidate.meta.code });
  }
  return false;
}

/** What a 503 for an unavailable database tells clients: a restarted PostgreSQL is usually back by then. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
