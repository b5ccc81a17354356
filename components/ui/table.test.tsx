import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { type Column, Table } from "./table";

type Row = { id: string; title: string; upn: string };
const columns: Column<Row>[] = [
  { header: "Name", rowHeader: true, cell: (row) => row.id },
  { header: "Job title", cell: (row) => row.title },
  {
    header: "User principal name",
    wrap: "anywhere",
    cell: (row) => row.upn,
    testId: (row) => `upn-${row.id}`,
  },
  { header: "Actions", headerHidden: true, wrap: "nowrap", cell: () => "Edit" },
];
const rows: Row[] = [
  { id: "jose", title: "Customer Success Specialist", upn: "jose.muller@contoso.example" },
];

function cell(html: string, text: string): string {
  return new RegExp(`<t[dh][^>]*>${text.replace(/\./g, "\\.")}</t[dh]>`).exec(html)?.[0] ?? "";
}

describe("Table", () => {
  it("is named by its caption and heads every column, hidden headers for screen readers only", () => {
    const html = renderToStaticMarkup(
      <Table caption="Attribute mappings" columns={columns} rows={rows} rowKey={(row) => row.id} />,
    );
    expect(html).toContain('<caption class="sr-only">Attribute mappings</caption>');
    expect(html.match(/<th scope="col"/g)).toHaveLength(4);
    expect(html).toContain('<span class="sr-only">Actions</span>');
    expect(cell(html, "jose")).toMatch(/^<th scope="row"/);
  });

  it("wraps prose between words and lets only identifiers break anywhere", () => {
    const html = renderToStaticMarkup(
      <Table caption="Users" columns={columns} rows={rows} rowKey={(row) => row.id} />,
    );
    expect(cell(html, "Customer Success Specialist")).toContain("break-words");
    expect(cell(html, "Customer Success Specialist")).not.toMatch(/overflow-wrap:anywhere|break-all/);
    expect(cell(html, "jose.muller@contoso.example")).toContain("[overflow-wrap:anywhere]");
    expect(cell(html, "jose.muller@contoso.example")).toContain('data-testid="upn-jose"');
    expect(html).not.toContain("break-all");
  });

  it("shows the empty state instead of a header over nothing, and Load more while pages remain", () => {
    const html = renderToStaticMarkup(
      <Table
        caption="Users"
        columns={columns}
        rows={[]}
        rowKey={(row) => row.id}
        empty={<p>No users match these filters.</p>}
        loadMore={{ hasNextPage: true, isFetching: false, onLoadMore: () => undefined }}
      />,
    );
    expect(html).not.toContain("<table");
    expect(html).toContain("<p>No users match these filters.</p>");
    expect(html).toMatch(/<button[^>]*>Load more<\/button>/);
    const lastPage = renderToStaticMarkup(
      <Table
        caption="Users"
        columns={columns}
        rows={rows}
        rowKey={(row) => row.id}
        loadMore={{ hasNextPage: false, isFetching: false, onLoadMore: () => undefined }}
      />,
    );
    expect(lastPage).not.toContain("Load more");
  });

  it("makes a wide table a named, focusable scrolling region when asked", () => {
    const html = renderToStaticMarkup(
      <Table
        caption="Findings"
        scrollLabel="Findings, scrollable"
        columns={columns}
        rows={rows}
        rowKey={(row) => row.id}
      />,
    );
    expect(html).toMatch(/<div[^>]*role="region"[^>]*aria-label="Findings, scrollable"[^>]*tabindex="0"/);
  });
});
