import { figure, markdown, unavailable } from './lib/report.mjs';
import { quantile, summarize } from './lib/stats.mjs';

describe('bench statistics and report', () => {
  it('takes nearest-rank quantiles: the median of 1..100 is 50 and its p99 is 99', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('summarizes only finite samples and says n 0 when there are none', () => {
    expect(summarize([3, Number.NaN, 1, undefined as unknown as number, 2])).toEqual({
      n: 3,
      p50: 2,
      p99: 3,
      min: 1,
      max: 3,
      mean: 2,
    });
    expect(summarize([])).toEqual({ n: 0 });
  });

  it('gives a figure its ratio and overhead against the baseline medians', () => {
    const row = figure('relay', 'ms', [2, 3, 4], { baseline: { name: 'bare NATS', samples: [1, 1, 2] } });
    expect(row).toEqual(expect.objectContaining({ figure: 'relay', unit: 'ms', n: 3, p50: 3, ratio: 3, overhead: 2 }));
    expect(row.baseline).toEqual(expect.objectContaining({ figure: 'bare NATS', p50: 1 }));
  });

  it('prints a table per section, unavailable rows saying why', () => {
    const text = markdown({
      sections: {
        relay: { title: '1. Relay', rows: [figure('per chunk', 'ms', [1.5])] },
        live: { title: '4. Live', rows: [unavailable('to transcription', 'not built yet')] },
      },
    });
    expect(text).toContain('### 1. Relay');
    expect(text).toContain('| per chunk | ms | 1 | 1.50 |');
    expect(text).toContain('| to transcription | | | **not available yet** | | | not built yet |');
  });
});
