import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  METRICS,
  MODEL_OPERATIONS,
  MODEL_SERVICES,
  OUTCOME_CANCELLED,
  OUTCOME_CLIENT_CLOSED,
  OUTCOME_OK,
  RUNTIME_METRICS,
  SERVER_FAULT_OUTCOMES_REGEX,
  TURN_OUTCOME_COMPLETE,
  type MetricService,
} from '@parley/contracts';
import { quantile, ratio, selector, sumOf, sumRate } from './promql.js';

/**
 * The Grafana dashboards, one per service plus an overview, written against the metric
 * vocabulary. `npm run build -w @parley/deploy` writes them to deploy/grafana/dashboards/*.json
 * (what users import or provision); a test fails when the committed files are stale.
 */

export interface QuerySpec {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  kind: 'timeseries' | 'stat';
  unit: string;
  queries: QuerySpec[];
  /**
   * The panel shows traffic: after a few text and voice turns (and one refused request) it
   * has data. Panels about rare events (cancels, restarts under way) may rightly be empty.
   */
  traffic: boolean;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  /** File name under deploy/grafana/dashboards/ and the dashboard's uid. */
  uid: string;
  title: string;
  description: string;
  service?: MetricService;
  rows: RowSpec[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PERCENTILES = [0.5, 0.95, 0.99] as const;
const MODEL_SERVICES_REGEX = `~${MODEL_SERVICES.join('|')}`;
const ALL_SERVICES_REGEX = '~gateway|llm|stt|tts';

const panel = (kind: PanelSpec['kind'], title: string, unit: string, description: string, queries: QuerySpec[], traffic = true): PanelSpec => ({
  kind,
  title,
  unit,
  description,
  queries,
  traffic,
});

function percentiles(definition: Parameters<typeof quantile>[1], labels: readonly string[], matchers: Record<string, string>, legendPrefix = ''): QuerySpec[] {
  const legendLabels = labels.map((label) => `{{${label}}}`).join(' ');
  return PERCENTILES.map((q) => ({
    expr: quantile(q, definition, labels, matchers),
    legend: `${legendPrefix}${legendLabels ? `${legendLabels} ` : ''}p${Math.round(q * 100)}`,
  }));
}

/** CPU, memory and event-loop lag of every replica of a service. */
function processRow(service: MetricService): RowSpec {
  const matchers = { service };
  return {
    title: 'Process',
    panels: [
      panel('timeseries', 'CPU per replica', 'percentunit', 'CPU seconds per second; compare with the CPU limit (threads follow it).', [
        { expr: `sum by (instance) (rate(${selector(RUNTIME_METRICS.cpuSeconds, matchers)}[$__rate_interval]))`, legend: '{{instance}}' },
      ]),
      panel('timeseries', 'Resident memory per replica', 'bytes', 'A resident model makes this large and flat; growth is a leak.', [
        { expr: sumOf(RUNTIME_METRICS.residentMemoryBytes, ['instance'], matchers), legend: '{{instance}}' },
      ]),
      panel('timeseries', 'Event loop lag p99', 's', 'A blocked event loop delays every stream of the replica.', [
        { expr: sumOf(RUNTIME_METRICS.eventLoopLagP99Seconds, ['instance'], matchers), legend: '{{instance}}' },
      ]),
    ],
  };
}

function modelServiceDashboard(service: (typeof MODEL_SERVICES)[number], title: string, description: string, engineRow: RowSpec): DashboardSpec {
  const matchers = { service };
  const operation = MODEL_OPERATIONS[service];
  return {
    uid: `parley-${service}`,
    title: `Parley / ${title}`,
    description,
    service,
    rows: [
      {
        title: 'Health',
        panels: [
          panel('stat', 'Replicas answering', 'none', 'Scrape targets up; 0 means no replica can take requests.', [
            { expr: sumOf(RUNTIME_METRICS.up, [], matchers), legend: 'up' },
          ]),
          panel('stat', 'Replicas with the model loaded', 'none', 'Should equal the replicas answering once start-up is over.', [
            { expr: sumOf(METRICS.modelLoaded, [], matchers), legend: 'loaded' },
          ]),
          panel('stat', 'Model load time (slowest replica)', 's', 'The last load of each replica; the startup probe must allow for it.', [
            { expr: `max(${selector(METRICS.modelLoadDuration.name, matchers)})`, legend: 'load' },
          ]),
          panel('stat', 'Model loads in the last hour', 'none', 'More loads than replicas means restarts (or, for stt, whisper-server restarts).', [
            { expr: `sum(increase(${selector(METRICS.modelLoads.name, matchers)}[1h]))`, legend: 'loads' },
          ]),
        ],
      },
      {
        title: 'Requests',
        panels: [
          panel('timeseries', 'Requests per second by outcome', 'reqps', `${operation} requests; outcomes other than ok and cancelled are error codes.`, [
            { expr: sumRate(METRICS.requestDuration, ['outcome'], matchers), legend: '{{outcome}}' },
          ]),
          panel('timeseries', 'Error ratio', 'percentunit', 'Requests that failed on this side (5xx error codes), over all requests.', [
            {
              expr: ratio(
                sumRate(METRICS.requestDuration, [], { ...matchers, outcome: `~${SERVER_FAULT_OUTCOMES_REGEX}` }),
                sumRate(METRICS.requestDuration, [], matchers),
              ),
              legend: 'errors',
            },
          ]),
          panel('timeseries', 'Latency percentiles', 's', `Whole ${operation} requests, queue wait included.`, percentiles(METRICS.requestDuration, [], { ...matchers, outcome: OUTCOME_OK })),
          panel('timeseries', 'In flight, queued and capacity', 'none', 'Queued near capacity means SERVICE_BUSY soon: add replicas.', [
            { expr: sumOf(METRICS.requestsInFlight, [], matchers), legend: 'in flight' },
            { expr: sumOf(METRICS.engineSlots, [], matchers), legend: 'engine slots' },
            { expr: sumOf(METRICS.queueDepth, [], matchers), legend: 'queued' },
            { expr: sumOf(METRICS.queueCapacity, [], matchers), legend: 'queue capacity' },
          ]),
          panel('timeseries', 'Cancel to engine stopped', 's', 'From a cancel (client gone, deadline) to the engine having stopped; the promise is under 50 ms. Empty until something is cancelled.', [
            { expr: quantile(0.95, METRICS.cancelToStop, [], matchers), legend: 'p95' },
            { expr: sumRate(METRICS.cancelToStop, [], matchers), legend: 'cancels per second' },
          ], false),
        ],
      },
      engineRow,
      processRow(service),
    ],
  };
}

const gatewayMatchers = { service: 'gateway' };
const turnMatchers = { service: 'gateway' };

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'parley-overview',
    title: 'Parley / Overview',
    description: 'The whole system at a glance: is every service answering, how fast do turns start speaking, where does time go.',
    rows: [
      {
        title: 'Is it up?',
        panels: [
          panel('stat', 'Replicas answering per service', 'none', 'Scrape targets up, per service.', [
            { expr: sumOf(RUNTIME_METRICS.up, ['service'], { service: ALL_SERVICES_REGEX }), legend: '{{service}}' },
          ]),
          panel('stat', 'Replicas with the model loaded', 'none', 'Per model service.', [
            { expr: sumOf(METRICS.modelLoaded, ['service'], { service: MODEL_SERVICES_REGEX }), legend: '{{service}}' },
          ]),
        ],
      },
      {
        title: 'Turns',
        panels: [
          panel('timeseries', 'Turns per second by outcome', 'reqps', 'Streamed turns (text-stream, speak-stream) by how they ended.', [
            { expr: sumRate(METRICS.turns, ['outcome'], turnMatchers), legend: '{{outcome}}' },
          ]),
          panel('timeseries', 'Turn error ratio', 'percentunit', "Turns that ended in a server-side error event (5xx codes), over all turns; callers' mistakes such as NO_SPEECH and clients leaving are not counted.", [
            {
              expr: ratio(
                sumRate(METRICS.turns, [], { ...turnMatchers, outcome: `~${SERVER_FAULT_OUTCOMES_REGEX}` }),
                sumRate(METRICS.turns, [], turnMatchers),
              ),
              legend: 'errors',
            },
          ]),
          panel('timeseries', 'Time to first chunk', 's', 'From a turn starting to its first text.', percentiles(METRICS.turnTimeToFirstChunk, [], turnMatchers)),
          panel('timeseries', 'Time to first audio', 's', 'From a turn starting to its first spoken sentence: what a learner waits for.', percentiles(METRICS.turnTimeToFirstAudio, [], turnMatchers)),
        ],
      },
      {
        title: 'Stages',
        panels: [
          panel('timeseries', 'Requests per second by service', 'reqps', 'Gateway HTTP requests and the model services behind it.', [
            { expr: sumRate(METRICS.requestDuration, ['service'], { service: ALL_SERVICES_REGEX }), legend: '{{service}}' },
          ]),
          panel('timeseries', 'p95 latency per stage', 's', 'Transcribe, chat (whole answer) and synthesize (one sentence).', [
            { expr: quantile(0.95, METRICS.requestDuration, ['service', 'operation'], { service: MODEL_SERVICES_REGEX, outcome: OUTCOME_OK }), legend: '{{service}} {{operation}}' },
          ]),
          panel('timeseries', 'Queued requests per service', 'none', 'Work waiting for an engine slot.', [
            { expr: sumOf(METRICS.queueDepth, ['service'], { service: MODEL_SERVICES_REGEX }), legend: '{{service}}' },
          ]),
          panel('timeseries', 'CPU per service', 'percentunit', 'CPU seconds per second, all replicas.', [
            { expr: `sum by (service) (rate(${selector(RUNTIME_METRICS.cpuSeconds, { service: ALL_SERVICES_REGEX })}[$__rate_interval]))`, legend: '{{service}}' },
          ]),
          panel('timeseries', 'Memory per service', 'bytes', 'Resident memory, all replicas.', [
            { expr: sumOf(RUNTIME_METRICS.residentMemoryBytes, ['service'], { service: ALL_SERVICES_REGEX }), legend: '{{service}}' },
          ]),
        ],
      },
    ],
  },
  {
    uid: 'parley-gateway',
    title: 'Parley / Gateway',
    description: 'The HTTP API: requests, errors by code, latency per route, and what a learner feels of a turn.',
    service: 'gateway',
    rows: [
      {
        title: 'HTTP',
        panels: [
          panel('stat', 'Replicas answering', 'none', 'Gateway scrape targets up.', [{ expr: sumOf(RUNTIME_METRICS.up, [], gatewayMatchers), legend: 'up' }]),
          panel('timeseries', 'Requests per second by route', 'reqps', 'Every API route; probes and scrapes are left out.', [
            { expr: sumRate(METRICS.requestDuration, ['operation'], gatewayMatchers), legend: '{{operation}}' },
          ]),
          panel('timeseries', 'Errors by status', 'reqps', '4xx are callers\' mistakes (the message says what to fix), 5xx are ours, client_closed means the client left.', [
            { expr: sumRate(METRICS.requestDuration, ['operation', 'outcome'], { ...gatewayMatchers, outcome: '!~2..' }), legend: '{{operation}} {{outcome}}' },
          ]),
          panel('timeseries', 'Latency per route p95', 's', 'Streamed routes are timed until the stream ends.', [
            { expr: quantile(0.95, METRICS.requestDuration, ['operation'], gatewayMatchers), legend: '{{operation}}' },
          ]),
          panel('timeseries', 'Requests in flight', 'none', 'Open requests, streams included.', [
            { expr: sumOf(METRICS.requestsInFlight, ['operation'], gatewayMatchers), legend: '{{operation}}' },
          ]),
        ],
      },
      {
        title: 'Turns',
        panels: [
          panel('timeseries', 'Turns per second by route and outcome', 'reqps', 'complete, an error code (the error event\'s), or client_closed.', [
            { expr: sumRate(METRICS.turns, ['route', 'outcome'], turnMatchers), legend: '{{route}} {{outcome}}' },
          ]),
          panel('timeseries', 'Errors by code', 'reqps', 'Turns that ended in an error event, by its code.', [
            { expr: sumRate(METRICS.turns, ['outcome'], { ...turnMatchers, outcome: `!~${TURN_OUTCOME_COMPLETE}|${OUTCOME_CLIENT_CLOSED}` }), legend: '{{outcome}}' },
          ]),
          panel('timeseries', 'Time to first chunk', 's', 'From a turn starting to its first text, by route.', percentiles(METRICS.turnTimeToFirstChunk, ['route'], turnMatchers)),
          panel('timeseries', 'Time to first audio', 's', 'From a turn starting to its first spoken sentence.', percentiles(METRICS.turnTimeToFirstAudio, ['route'], turnMatchers)),
        ],
      },
      processRow('gateway'),
    ],
  },
  modelServiceDashboard('llm', 'LLM service', 'node-llama-cpp: generation throughput, queueing and latency.', {
    title: 'Generation',
    panels: [

      panel('timeseries', 'Tokens per second', 'none', 'Completion tokens written and prompt tokens read, all replicas.', [
        { expr: sumRate(METRICS.llmTokens, ['kind'], { service: 'llm' }), legend: '{{kind}}' },
      ]),
      panel('timeseries', 'Completion tokens per second per replica', 'none', 'A replica far below the others is oversubscribed (threads above its CPU limit).', [
        { expr: sumRate(METRICS.llmTokens, ['instance'], { service: 'llm', kind: 'completion' }), legend: '{{instance}}' },
      ]),
    ],
  }),
  modelServiceDashboard('stt', 'STT service', 'whisper-server children: transcription latency and restarts.', {
    title: 'whisper-server',
    panels: [
      panel('timeseries', 'whisper-server restarts', 'none', 'Children restarted after dying; each restart reloads the model.', [
        { expr: `sum by (instance) (increase(${selector(METRICS.sttServerRestarts.name, { service: 'stt' })}[$__rate_interval]))`, legend: '{{instance}}' },
      ]),
      panel('timeseries', 'Transcriptions by outcome', 'reqps', 'NO_SPEECH is a caller\'s silence, not a fault.', [
        { expr: sumRate(METRICS.requestDuration, ['outcome'], { service: 'stt', outcome: `!${OUTCOME_CANCELLED}` }), legend: '{{outcome}}' },
      ]),
    ],
  }),
  modelServiceDashboard('tts', 'TTS service', 'sherpa-onnx voices: synthesis speed against real time.', {
    title: 'Synthesis',
    panels: [
      panel('timeseries', 'Real-time factor', 'none', 'Synthesis time over speech duration; at or above 1 speech cannot keep up with playback.', percentiles(METRICS.ttsRealTimeFactor, [], { service: 'tts' })),
      panel('timeseries', 'Seconds of speech per second', 'none', 'Speech synthesized per second of wall time, by voice.', [
        { expr: sumRate(METRICS.ttsAudio, ['voice'], { service: 'tts' }), legend: '{{voice}}' },
      ]),
    ],
  }),
];

function buildPanel(spec: PanelSpec) {
  const builder = spec.kind === 'stat' ? new stat.PanelBuilder().height(4).span(6) : new timeseries.PanelBuilder().height(8).span(12);
  builder.title(spec.title).description(spec.description).unit(spec.unit).datasource(DATASOURCE);
  spec.queries.forEach((query, i) => {
    builder.withTarget(
      new prometheus.DataqueryBuilder()
        .expr(query.expr)
        .legendFormat(query.legend)
        .refId(String.fromCharCode(65 + i))
        .datasource(DATASOURCE),
    );
  });
  return builder;
}

/** The dashboard JSON as Grafana imports it. */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['parley', ...(spec.service ? [spec.service] : ['overview'])])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .link(new dashboard.DashboardLinkBuilder('Parley').type(dashboard.DashboardLinkType.Dashboards).tags(['parley']).asDropdown(true));
  for (const row of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(row.title));
    for (const panelSpec of row.panels) builder.withPanel(buildPanel(panelSpec));
  }
  return builder.build();
}

/** Every PromQL expression of a built dashboard, with its panel's title. */
export function dashboardQueries(built: dashboard.Dashboard): Array<{ panel: string; expr: string }> {
  const queries: Array<{ panel: string; expr: string }> = [];
  for (const item of built.panels ?? []) {
    if (!('targets' in item)) continue;
    for (const target of item.targets ?? []) {
      const expr = (target as { expr?: string }).expr;
      if (expr) queries.push({ panel: item.title ?? '', expr });
    }
  }
  return queries;
}
