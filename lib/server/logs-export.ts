import type { PrismaClient } from "../db/generated/client";
import { listLogs, type LogQuery, type ProvisioningLogDto } from "./logs";

const CSV_COLUMNS: [string, (log: ProvisioningLogDto) => unknown][] = [
  ["Date", (log) => log.activityDateTime],
  ["Change ID", (log) => log.changeId],
  ["Cycle ID", (log) => log.cycleId],
  ["Job ID", (log) => log.jobId],
  ["Action", (log) => log.action],
  ["Status", (log) => log.status],
  ["Object type", (log) => log.objectType],
  ["Source ID", (log) => log.sourceIdentity.id],
  ["Source display name", (log) => log.sourceIdentity.displayName],
  ["Target ID", (log) => log.targetIdentity.id],
  ["Target display name", (log) => log.targetIdentity.displayName],
  ["Error code", (log) => log.error?.code],
  ["Reason", (log) => log.error?.reason],
  ["Recommended action", (log) => log.error?.recommendedAction],
  ["Modified properties", (log) => log.modifiedProperties],
  ["Duration (ms)", (log) => log.durationMs],
  ["Initiated by", (log) => log.initiatedBy],
  ["Seen in Entra ID", (log) => log.changeSeenAt],
];

/**
 * Cells are quoted, and a leading =, +, - or @ is neutralised so a spreadsheet never runs a display
 * name like "=HYPERLINK(...)" taken from the directory as a formula.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * Streams every matching log entry, newest first, reading keyset pages of 1,000 so memory stays flat
 * however many rows match.
 */
export function exportLogs(
  db: PrismaClient,
  connectionId: string,
  query: Omit<LogQuery, "cursor" | "limit">,
  format: "json" | "csv",
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return;
      if (!started) {
        started = true;
        controller.enqueue(
          encoder.encode(
            format === "csv" ? CSV_COLUMNS.map(([name]) => csvCell(name)).join(",") + "\r\n" : "[",
          ),
        );
      }
      const page = await listLogs(db, connectionId, { ...query, cursor, limit: 1000 });
      const chunk =
        format === "csv"
          ? page.items
              .map((log) => CSV_COLUMNS.map(([, read]) => csvCell(read(log))).join(",") + "\r\n")
              .join("")
          : page.items
              .map((log, index) => (cursor === undefined && index === 0 ? "" : ",") + JSON.stringify(log))
              .join("");
      if (chunk) controller.enqueue(encoder.encode(chunk));
      cursor = page.nextCursor ?? undefined;
      if (!page.nextCursor) {
        if (format === "json") controller.enqueue(encoder.encode("]"));
        done = true;
        controller.close();
      }
    },
  });
}
