import { histogramSeries, type MetricDefinition } from '@parley/contracts';

/**
 * Small PromQL builders over the metric vocabulary: a query names a metric through its
 * definition, never as a free string, so a renamed or removed metric breaks the build here.
 */

/** Grafana's rate window; the Prometheus checks substitute it (rules use fixed windows). */
export const RATE_INTERVAL = '$__rate_interval';

export type Matchers = Record<string, string>;

/** `name{a="x",b=~"y|z"}`: a value starting with `~` or `!` makes a regex or negative matcher. */
export function selector(name: string, matchers: Matchers = {}): string {
  const parts = Object.entries(matchers).map(([label, value]) => {
    if (value.startsWith('!~')) return `${label}!~"${value.slice(2)}"`;
    if (value.startsWith('~')) return `${label}=~"${value.slice(1)}"`;
    if (value.startsWith('!')) return `${label}!="${value.slice(1)}"`;
    return `${label}="${value}"`;
  });
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export function metricName(definition: MetricDefinition): string {
  return definition.name;
}

function by(labels: readonly string[]): string {
  return labels.length ? ` by (${labels.join(', ')})` : '';
}

/** `sum by (labels) (rate(counter[window]))`; for a histogram, its `_count`. */
export function sumRate(definition: MetricDefinition, labels: readonly string[], matchers: Matchers = {}, window = RATE_INTERVAL): string {
  const series = definition.type === 'histogram' ? histogramSeries(definition).count : definition.name;
  return `sum${by(labels)} (rate(${selector(series, matchers)}[${window}]))`;
}

/** `sum by (labels) (gauge)`. */
export function sumOf(definition: MetricDefinition | string, labels: readonly string[], matchers: Matchers = {}): string {
  const name = typeof definition === 'string' ? definition : definition.name;
  return `sum${by(labels)} (${selector(name, matchers)})`;
}

/** The q-quantile of a histogram over `window`, kept apart by `labels`. */
export function quantile(q: number, definition: MetricDefinition, labels: readonly string[], matchers: Matchers = {}, window = RATE_INTERVAL): string {
  const { bucket } = histogramSeries(definition);
  return `histogram_quantile(${q}, sum${by([...labels, 'le'])} (rate(${selector(bucket, matchers)}[${window}])))`;
}

/**
 * The share of `part` in `whole` (sums of rates grouped alike). Where `whole` has traffic but
 * `part` has no series (no errors yet), the ratio reads 0 rather than "no data".
 */
export function ratio(part: string, whole: string): string {
  return `(${part} or ${whole} * 0) / (${whole})`;
}
