import type { ScimClient } from "./client";
import { isScimError } from "./errors";
import type { ScimListResponse, ScimResource } from "./schemas";

/**
 * Reads every User or Group of the target page by page (RFC 7644 §3.4.2.4) so a cycle can match against
 * a snapshot instead of sending one filter query per object. The listing is only as good as the server's
 * paging: without `sortBy` the order may change while others write, so the verdict says whether the pages
 * add up to one consistent picture. When it does not, the engine must match with per-object filters.
 */

export type SnapshotResourceType = "User" | "Group";

export type SnapshotUnreliableReason =
  /** The connection's settings say not to list the target (no request was sent). */
  | "ListingDisabled"
  /** The target refused the listing (4xx other than 401/429, 501) or answered it with something unusable. */
  | "ListingRefused"
  /** totalResults differed between pages: someone created or deleted resources during the listing. */
  | "TotalChanged"
  /** A page came back empty before totalResults resources were read. */
  | "EmptyPage"
  /** The pages held a different number of distinct ids than totalResults (skipped or repeated entries). */
  | "CountMismatch"
  /** The target answered a page for another startIndex than the one asked for. */
  | "StartIndexIgnored";

export type SnapshotVerdict =
  | { reliable: true; totalResults: number; distinctIds: number; pages: number; requests: number }
  | {
      reliable: false;
      reason: SnapshotUnreliableReason;
      /** One sentence for the cycle's log: what was seen. */
      detail: string;
      totalResults: number | null;
      distinctIds: number;
      pages: number;
      requests: number;
    };

export interface SnapshotPage {
  /** 1-based index of the first resource of this page in the listing. */
  startIndex: number;
  /** Users or groups (without members) as the target listed them. */
  resources: readonly ScimResource[];
  totalResults: number;
}

export interface ReadTargetSnapshotOptions {
  /** Resources asked for per page; the server may return fewer (Dialpad caps at 100). Default 100. */
  pageSize?: number;
  /**
   * Receives each page in order, one at a time, so the caller can stream it to storage; the next page is
   * already being fetched meanwhile (at most one request in flight).
   */
  onPage: (page: SnapshotPage) => Promise<void>;
  /** A setting forbids listing the target: no request is sent and the verdict says why. */
  listingDisabled?: boolean;
}

/**
 * Lists every resource of one type, honouring `itemsPerPage` (advances by what the server returned) and
 * stopping at `totalResults`. Transient failures are retried per page by the SCIM client; a page that still
 * fails after those retries (or a 401) is thrown, because per-object matching would fail the same way.
 * Only the ids seen are held in memory, never the resources.
 */
export async function readTargetSnapshot(
  scim: ScimClient,
  resourceType: SnapshotResourceType,
  options: ReadTargetSnapshotOptions,
): Promise<SnapshotVerdict> {
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 100));
  const seen = new Set<string>();
  let pages = 0;
  let requests = 0;
  let expectedTotal: number | null = null;
  const unreliable = (reason: SnapshotUnreliableReason, detail: string): SnapshotVerdict => ({
    reliable: false,
    reason,
    detail,
    totalResults: expectedTotal,
    distinctIds: seen.size,
    pages,
    requests,
  });
  if (options.listingDisabled) {
    return unreliable("ListingDisabled", "Listing the target is turned off for this connection.");
  }
  const collection = resourceType === "User" ? "/Users" : "/Groups";

  type Fetched = { page: ScimListResponse<ScimResource> } | { error: unknown };
  const fetchPage = (startIndex: number): Promise<Fetched> => {
    requests += 1;
    const request =
      resourceType === "User"
        ? scim.listUsers({ startIndex, count: pageSize })
        : scim.listGroups({ startIndex, count: pageSize, excludeMembers: true });
    // Settled into a value: a page fetched ahead must not become an unhandled rejection if onPage throws.
    return request.then(
      (page) => ({ page }),
      (error: unknown) => ({ error }),
    );
  };

  let startIndex = 1;
  let next = fetchPage(startIndex);
  for (;;) {
    const fetched = await next;
    if ("error" in fetched) {
      const error = fetched.error;
      if (isScimError(error) && !error.retryable && error.status !== 401) {
        return unreliable(
          "ListingRefused",
          `GET ${collection}?startIndex=${startIndex}&count=${pageSize} failed: ${error.code}${
            error.status ? ` (HTTP ${error.status})` : ""
          }: ${error.detail}`,
        );
      }
      throw error;
    }
    const page = fetched.page;
    if (expectedTotal === null) expectedTotal = page.totalResults;
    else if (page.totalResults !== expectedTotal) {
      return unreliable(
        "TotalChanged",
        `totalResults was ${expectedTotal} on the first page and ${page.totalResults} at startIndex ${startIndex}: the target changed during the listing.`,
      );
    }
    if (page.startIndex !== undefined && page.startIndex !== startIndex) {
      return unreliable(
        "StartIndexIgnored",
        `asked for startIndex ${startIndex}, the target answered startIndex ${page.startIndex}.`,
      );
    }
    if (startIndex > expectedTotal) break;
    if (page.Resources.length === 0) {
      return unreliable(
        "EmptyPage",
        `the page at startIndex ${startIndex} was empty although totalResults is ${expectedTotal}.`,
      );
    }
    pages += 1;
    for (const resource of page.Resources) seen.add(resource.id);
    const following = startIndex + page.Resources.length;
    const more = following <= expectedTotal;
    // The next page is asked for while this one is stored, so a page costs the slower of the two, not both.
    if (more) next = fetchPage(following);
    await options.onPage({ startIndex, resources: page.Resources, totalResults: expectedTotal });
    if (!more) break;
    startIndex = following;
  }

  if (seen.size !== expectedTotal) {
    return unreliable(
      "CountMismatch",
      `the listing returned ${seen.size} distinct ids but totalResults is ${expectedTotal}: entries were skipped or repeated.`,
    );
  }
  return { reliable: true, totalResults: expectedTotal, distinctIds: seen.size, pages, requests };
}
