// Summaries of repeated measurements: median and p99 (nearest rank) with min/max as the spread.

export function quantile(values, q) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** { n, p50, p99, min, max, mean } of finite samples (undefined fields when there are none). */
export function summarize(samples) {
  const values = samples.filter((v) => Number.isFinite(v));
  if (values.length === 0) return { n: 0 };
  return {
    n: values.length,
    p50: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** Milliseconds since the epoch, sub-millisecond: comparable with the llm-service's chunk stamps. */
export const epochMs = () => performance.timeOrigin + performance.now();
