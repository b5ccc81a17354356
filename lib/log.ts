import { liveSetting } from "./config/env";
import pino, { type Logger } from "pino";

/**
 * Structured JSON logs. Every key that can carry a credential is censored wherever it appears, so a
 * careless `log.info({ request })` cannot leak the Dialpad key or a bearer token.
 */
export const REDACTED_KEYS = [
  "authorization",
  "Authorization",
  "token",
  "accessToken",
  "secretToken",
  "clientSecret",
  "password",
  "apiKey",
  "secret",
];

export function createLogger(options: {
  name: string;
  level?: string;
  /** Where lines go; stdout by default (tests capture them to scan for secrets). */
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? liveSetting.logLevel() ?? "info",
      redact: {
        paths: REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers.${key}`]),
        censor: "[redacted]",
      },
      base: { process: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
