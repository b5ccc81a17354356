import type { HTMLAttributes, Key, ReactNode } from "react";
import { Button } from "./button";
import { cn } from "./cn";

/**
 * How a cell's text may wrap. Prose wraps between words only (a job title never splits as
 * "Speciali st"); identifiers, e-mail addresses and URLs have no spaces, so they may break anywhere
 * rather than widen the table past the card.
 */
export type CellWrap = "words" | "anywhere" | "nowrap";

const WRAP: Record<CellWrap, string> = {
  words: "break-words",
  anywhere: "[overflow-wrap:anywhere]",
  nowrap: "whitespace-nowrap",
};

export type Column<Row> = {
  /** Visible header text; with `headerHidden` it is read by screen readers only (an Actions column). */
  header: string;
  headerHidden?: boolean;
  cell: (row: Row, index: number) => ReactNode;
  wrap?: CellWrap;
  className?: string;
  /** The cell names its row (`<th scope="row">`), as the first column of a count table does. */
  rowHeader?: boolean;
  testId?: (row: Row) => string;
};

const VARIANTS = {
  // A screen's main listing: bordered card, shaded header, rows divided.
  grid: {
    frame:
      "overflow-x-auto rounded-lg border border-slate-200 bg-white focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:outline-none dark:border-slate-800 dark:bg-slate-900",
    table: "min-w-full text-left",
    head: "bg-slate-100 text-xs text-slate-700 uppercase dark:bg-slate-800 dark:text-slate-300",
    th: "px-3 py-2",
    row: "border-t border-slate-200 align-top dark:border-slate-800",
    td: "px-3 py-2",
  },
  // A small table inside a card or a cell: no frame, quiet header.
  compact: {
    frame: "overflow-x-auto",
    table: "w-full text-left",
    head: "text-xs text-slate-600 dark:text-slate-400",
    th: "py-1 pr-3 font-medium",
    row: "border-t border-slate-100 align-top dark:border-slate-800",
    td: "py-1 pr-3",
  },
} as const;

/**
 * The console's table: a caption (shown, or for screen readers only) that names it, column headers,
 * an empty state instead of a header over nothing, and an optional "Load more" for paged lists.
 */
export function Table<Row>({
  caption,
  captionVisible = false,
  columns,
  rows,
  rowKey,
  rowProps,
  empty,
  variant = "grid",
  className,
  scrollLabel,
  small = false,
  loadMore,
}: {
  caption: ReactNode;
  captionVisible?: boolean;
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row, index: number) => Key;
  rowProps?: (row: Row, index: number) => HTMLAttributes<HTMLTableRowElement>;
  /** Shown instead of the table when there are no rows; nothing when omitted. */
  empty?: ReactNode;
  variant?: keyof typeof VARIANTS;
  /** Extra classes for the `<table>` (a fixed layout or a minimum width). */
  className?: string;
  /**
   * Names a focusable scrolling region around a wide table, so keyboard users can scroll it sideways
   * even when its rows hold nothing to tab to.
   */
  scrollLabel?: string;
  /** Extra-small text, for a table nested in another table's cell. */
  small?: boolean;
  loadMore?: { hasNextPage: boolean; isFetching: boolean; onLoadMore: () => void };
}) {
  const style = VARIANTS[variant];
  const more = loadMore?.hasNextPage && (
    <Button variant="secondary" onClick={loadMore.onLoadMore} disabled={loadMore.isFetching}>
      {loadMore.isFetching ? "Loading…" : "Load more"}
    </Button>
  );
  if (rows.length === 0) {
    return (
      <>
        {empty}
        {more}
      </>
    );
  }
  return (
    <>
      <div
        className={style.frame}
        {...(scrollLabel ? { role: "region", "aria-label": scrollLabel, tabIndex: 0 } : {})}
      >
        <table className={cn(style.table, small ? "text-xs" : "text-sm", className)}>
          <caption className={captionVisible ? "mb-2 text-left text-sm font-semibold" : "sr-only"}>
            {caption}
          </caption>
          <thead className={style.head}>
            <tr>
              {columns.map((column) => (
                <th key={column.header} scope="col" className={style.th}>
                  {column.headerHidden ? <span className="sr-only">{column.header}</span> : column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const extra = rowProps?.(row, index);
              return (
                <tr key={rowKey(row, index)} {...extra} className={cn(style.row, extra?.className)}>
                  {columns.map((column) => {
                    const cellClass = cn(style.td, WRAP[column.wrap ?? "words"], column.className);
                    const testId = column.testId?.(row);
                    return column.rowHeader ? (
                      <th
                        key={column.header}
                        scope="row"
                        className={cn(cellClass, "font-normal")}
                        data-testid={testId}
                      >
                        {column.cell(row, index)}
                      </th>
                    ) : (
                      <td key={column.header} className={cellClass} data-testid={testId}>
                        {column.cell(row, index)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {more}
    </>
  );
}
