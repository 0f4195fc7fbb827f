// One result shape for every section, a markdown table per section, and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from './stats.mjs';

/**
 * A measured figure: the summary of its samples, and (optionally) the baseline measured in the
 * same run with the ratio figure/baseline of the medians.
 */
export function figure(name, unit, samples, { baseline, note } = {}) {
  const row = { figure: name, unit, ...summarize(samples) };
  if (baseline) {
    row.baseline = { figure: baseline.name, ...summarize(baseline.samples) };
    if (row.p50 !== undefined && row.baseline.p50) row.ratio = row.p50 / row.baseline.p50;
    if (row.p50 !== undefined && row.baseline.p50 !== undefined) row.overhead = row.p50 - row.baseline.p50;
  }
  if (note) row.note = note;
  return row;
}

/** A figure that cannot be measured in this tree, with the reason (reported, never hidden). */
export function unavailable(name, reason) {
  return { figure: name, available: false, note: reason };
}

const num = (v, unit) => {
  if (v === undefined) return '';
  const digits = unit === 'ms' && Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0;
  return v.toFixed(digits);
};

export function markdown(results) {
  const lines = [];
  for (const section of Object.values(results.sections)) {
    lines.push(`### ${section.title}`, '');
    if (section.setup) lines.push(`_${section.setup}_`, '');
    lines.push(
      '| figure | unit | n | p50 | p99 | min–max | baseline (same run) | baseline p50 | baseline p99 | ratio | Δ p50 |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of section.rows) {
      if (r.available === false) {
        lines.push(`| ${r.figure} | | | **not available yet** | | | ${r.note} | | | | |`);
        continue;
      }
      const spread = r.n > 1 ? `${num(r.min, r.unit)}–${num(r.max, r.unit)}` : '';
      const b = r.baseline;
      lines.push(
        `| ${r.figure}${r.note ? ` (${r.note})` : ''} | ${r.unit} | ${r.n} | ${num(r.p50, r.unit)} | ${r.n > 1 ? num(r.p99, r.unit) : ''} | ${spread} | ` +
          `${b ? b.figure : ''} | ${b ? num(b.p50, r.unit) : ''} | ${b && b.n > 1 ? num(b.p99, r.unit) : ''} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : ''} | ${r.overhead !== undefined ? num(r.overhead, r.unit) : ''} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes `<dir>/bench-<time>.json` and `<dir>/latest.json`; returns the first path. */
export function writeResults(dir, results) {
  mkdirSync(dir, { recursive: true });
  const stamp = results.meta.started_at.replace(/[:.]/g, '-');
  const path = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(path, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return path;
}
