import type { Registry } from "prom-client";

/**
 * prom-client's Histogram only accepts observations one by one; these buckets are counted by
 * PostgreSQL, so this metric hands prom-client's formatter finished values. Each row is one series:
 * its labels, the cumulative count at each bucket bound, the count and the sum.
 */
export function precountedHistogram(
  name: string,
  help: string,
  bounds: readonly number[],
  rows: { labels: Record<string, string>; buckets: number[]; count: number; sum: number }[],
) {
  return {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get: async () => ({
      name,
      help,
      type: "histogram",
      aggregator: "sum",
      values: rows.flatMap(({ labels, buckets, count, sum }) => [
        ...bounds.map((le, index) => ({
          metricName: `${name}_bucket`,
          labels: { ...labels, le },
          value: buckets[index] ?? 0,
        })),
        { metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: count },
        { metricName: `${name}_sum`, labels, value: sum },
        { metricName: `${name}_count`, labels, value: count },
      ]),
    }),
    reset: () => undefined,
  } as unknown as Parameters<Registry["registerMetric"]>[0];
}
