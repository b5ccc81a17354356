/**
 * A statement's payloads are copied several times on their way to PostgreSQL (the query's JSON, its
 * parsed arguments, the wire message), so a statement of 20 cycle units of 100 users (14 MB) cost a worker
 * about 100 MB at once, and Prisma's query engine keeps the memory it grew to for such a request.
 * Statements are cut at this many characters of payload instead (or 50 rows).
 */
const STATEMENT_PAYLOAD_CHARS = 1_500_000;
const ROWS_PER_STATEMENT = 50;

/** [start, end) ranges of `payloads`, each one INSERT: at least one row, at most the bounds above. */
export function statementBatches(payloads: readonly string[]): [number, number][] {
  const batches: [number, number][] = [];
  let start = 0;
  let chars = 0;
  payloads.forEach((payload, index) => {
    const full =
      index > start &&
      (chars + payload.length > STATEMENT_PAYLOAD_CHARS || index - start >= ROWS_PER_STATEMENT);
    if (full) {
      batches.push([start, index]);
      start = index;
      chars = 0;
    }
    chars += payload.length;
  });
  if (start < payloads.length) batches.push([start, payloads.length]);
  return batches;
}
