import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { METRIC_SERVICES, METRICS, RUNTIME_METRICS } from '@parley/contracts';
import { waitUntil } from '@parley/service-kit/testing';
import { RULES_FILE } from '../src/artifacts.js';
import {
  dashboardPanelQueries,
  metricNamesIn,
  RECORDED_SERIES,
  ruleQueries,
  withGrafanaVariables,
} from '../src/queries.js';
import {
  instantQuery,
  ROOT,
  startPrometheus,
  startReadyParley,
  type ReadyParley,
  type RunningService,
  type TestPrometheus,
} from './system.js';

const TURN_FIELDS = { language: 'en', difficulty: 'beginner', scenario: 'greeting' };
/**
 * prom-client's own default metrics: gauges named `_total` (its naming, not ours: see FACTS;
 * `nodejs_active_handles_total` and `nodejs_active_requests_total` are the same case).
 */
const ALLOWED_LINT_PROBLEMS = [
  /^nodejs_active_(resources|handles|requests)_total non-counter metrics should not have "_total" suffix$/,
];

/**
 * Every dashboard panel and every rule, evaluated by a real Prometheus that scrapes the four
 * services (real engines on generated models, a private broker) every second while text and voice
 * turns flow through the gateway.
 */
describe('dashboards and rules against a real Prometheus scraping every service', () => {
  let parley: ReadyParley;
  let services: RunningService[] = [];
  let prometheus: TestPrometheus;
  let gatewayUrl: string;
  let speechWav: Uint8Array;
  let silenceWav: Uint8Array;
  const expositions = new Map<string, string>();

  async function streamedTurn(path: string, body: string | FormData, headers: Record<string, string> = {}) {
    const res = await fetch(`${gatewayUrl}${path}`, { method: 'POST', body, headers });
    return { status: res.status, text: await res.text() };
  }

  function voiceForm(wav: Uint8Array) {
    const form = new FormData();
    for (const [key, value] of Object.entries(TURN_FIELDS)) form.append(key, value);
    form.append('audio', new Blob([wav as Uint8Array<ArrayBuffer>]), 'turn.wav');
    return form;
  }

  /** A text turn, a spoken turn, a silent recording (NO_SPEECH) and a caller's mistake (400). */
  async function driveTraffic() {
    const text = await streamedTurn(
      '/api/conversation/text-stream',
      JSON.stringify({ message: 'Hello, how are you?', ...TURN_FIELDS }),
      {
        'Content-Type': 'application/json',
      },
    );
    expect(text.text).toContain('event: complete');
    const spoken = await streamedTurn('/api/conversation/speak-stream', voiceForm(speechWav));
    expect(spoken.text).toContain('event: audio');
    expect(spoken.text).toContain('event: complete');
    const silent = await streamedTurn('/api/conversation/speak-stream', voiceForm(silenceWav));
    expect(silent.text).toContain('"code":"NO_SPEECH"');
    const invalid = await streamedTurn('/api/conversation/text-stream', JSON.stringify({ language: 'en' }), {
      'Content-Type': 'application/json',
    });
    expect(invalid.status).toBe(400);
  }

  const scalar = async (query: string) => {
    const result = await instantQuery(prometheus.url, query);
    return Number(result.data?.result[0]?.value[1] ?? NaN);
  };

  beforeAll(async () => {
    parley = await startReadyParley();
    ({ services, gatewayUrl, speechWav, silenceWav } = parley);
    prometheus = await startPrometheus(parley.dir, services, join(ROOT, RULES_FILE));
    await waitUntil(
      async () => (await scalar('count(up == 1)')) === services.length,
      'every target scraped',
      20_000,
      200,
    );

    // Two rounds with scrapes between: a series created by the first round grows in the second,
    // so rates and quantiles over the window have something to show.
    await driveTraffic();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await driveTraffic();
    await waitUntil(
      async () => (await scalar(`sum(${METRICS.turns.name})`)) === 6,
      'six turns counted by Prometheus',
      20_000,
      200,
    );
    // At least two more scrapes (and rule evaluations) after the last turn.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const { service, httpPort } of services)
      expositions.set(service, await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
  }, 300_000);

  afterAll(async () => {
    await prometheus?.stop();
    await parley?.stop();
  });

  it('has every service answering its probes: alive on /healthz, ready on /readyz (broker answers, model loaded)', async () => {
    for (const { service, httpPort } of services) {
      const alive = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      expect({ service, status: alive.status }).toEqual({ service, status: 200 });
      const ready = (await (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json()) as Record<string, string>;
      expect(ready).toEqual({
        status: 'ready',
        broker: 'connected',
        ...(service === 'gateway' ? {} : { model: 'loaded' }),
      });
    }
  });

  it('scrapes every service', async () => {
    const result = await instantQuery(prometheus.url, `sum by (service) (${RUNTIME_METRICS.up})`);
    const up = Object.fromEntries(result.data!.result.map((r) => [r.metric.service, Number(r.value[1])]));
    expect(up).toEqual(Object.fromEntries(METRIC_SERVICES.map((service) => [service, 1])));
  });

  it('evaluates every dashboard query: each parses, and every traffic panel returns a number', async () => {
    const queries = dashboardPanelQueries();
    const problems: string[] = [];
    for (const { source, expr, traffic } of queries) {
      const result = await instantQuery(prometheus.url, withGrafanaVariables(expr));
      if (result.status !== 'success') problems.push(`${source}: ${result.error} in ${expr}`);
      else if (traffic && !result.data!.result.some((r) => Number.isFinite(Number(r.value[1]))))
        problems.push(`${source}: no data from ${expr}`);
    }
    expect(problems).toEqual([]);
    expect(queries.filter((q) => q.traffic).length).toBeGreaterThan(30);
  });

  it('evaluates every alert and recording rule: each parses, Prometheus runs the loaded rules without error, and none fires on a healthy system', async () => {
    const problems: string[] = [];
    for (const { source, expr } of ruleQueries()) {
      const result = await instantQuery(prometheus.url, expr);
      if (result.status !== 'success') problems.push(`${source}: ${result.error}`);
    }
    expect(problems).toEqual([]);
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    expect(loaded.length).toBe(ruleQueries().length);
    expect(loaded.filter((rule) => rule.health !== 'ok')).toEqual([]);
    // The recording rules produce series from the traffic (the error ratios are 0: no server faults).
    expect(await scalar('max(parley:request_error_ratio:rate5m)')).toBe(0);
    expect(await scalar('max(parley:turn_error_ratio:rate5m)')).toBe(0);
    expect(await scalar('parley:turn_time_to_first_audio_seconds:p95_5m')).toBeGreaterThan(0);
    expect((await instantQuery(prometheus.url, 'ALERTS')).data!.result).toEqual([]);
  });

  it('finds every metric a dashboard or rule reads exported by some service', () => {
    const exported = new Set<string>();
    for (const text of expositions.values()) {
      for (const line of text.split('\n')) {
        const name = /^([a-zA-Z_:][\w:]*)/.exec(line)?.[1];
        if (name) exported.add(name);
      }
    }
    const used = new Set([...dashboardPanelQueries(), ...ruleQueries()].flatMap((q) => metricNamesIn(q.expr)));
    const generatedByPrometheus = new Set<string>([RUNTIME_METRICS.up, ...RECORDED_SERIES]);
    expect([...used].filter((name) => !exported.has(name) && !generatedByPrometheus.has(name))).toEqual([]);
  });

  it("passes promtool check metrics on every service's exposition (prom-client's own nodejs_active_resources_total aside)", () => {
    for (const [service, text] of expositions) {
      const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      const problems = `${result.stdout}${result.stderr}`
        .split('\n')
        .filter((line) => line.trim() && !ALLOWED_LINT_PROBLEMS.some((allowed) => allowed.test(line)));
      expect({ service, problems }).toEqual({ service, problems: [] });
    }
  });
});
