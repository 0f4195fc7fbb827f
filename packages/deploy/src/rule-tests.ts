import { histogramSeries, METRICS, METRIC_SERVICES, RUNTIME_METRICS } from '@parley/contracts';
import { selector } from './promql.js';
import { ALERTS, THRESHOLDS, type AlertRule } from './rules.js';

/**
 * `promtool test rules` unit tests for every alert: each fires when it should and stays quiet
 * when it should not, on synthetic series named from the vocabulary. Written out to
 * deploy/prometheus/rules.test.yml next to the rules.
 */

interface InputSeries {
  series: string;
  values: string;
}

interface AlertCase {
  alertname: string;
  /** What happens in this case, e.g. "fires when ...". */
  name: string;
  input: InputSeries[];
  evalTime: string;
  /** The labels of each alert expected to fire (besides the rule's own); empty: quiet. */
  firing: Array<Record<string, string>>;
}

const series = (name: string, labels: Record<string, string>, values: string): InputSeries => ({ series: selector(name, labels), values });
const target = (service: string, instance = `${service}-0:9100`) => ({ service, instance, job: service });
const { bucket: firstAudioBucket } = histogramSeries(METRICS.turnTimeToFirstAudio);
const { count: requestCount } = histogramSeries(METRICS.requestDuration);

const everyServiceUp = (except?: string) =>
  METRIC_SERVICES.map((service) => series(RUNTIME_METRICS.up, target(service), service === except ? '0x20' : '1x20'));

/** First-audio latencies: `count` turns per minute, all within the bucket `le`. */
const firstAudioTurns = (le: string) =>
  ['1', '2.5', '5', '+Inf'].map((bound) =>
    series(firstAudioBucket, { service: 'gateway', route: 'speak-stream', le: bound }, Number(bound) >= Number(le) || bound === '+Inf' ? '0+10x30' : '0x30'),
  );

export const ALERT_CASES: AlertCase[] = [
  {
    alertname: 'ParleyModelNotLoaded',
    name: `fires when a replica answers but its model has not loaded for ${THRESHOLDS.modelLoadGrace}`,
    input: [series(RUNTIME_METRICS.up, target('stt'), '1x30'), series(METRICS.modelLoaded.name, { ...target('stt'), model: 'base.en' }, '0x30')],
    evalTime: '15m',
    firing: [{ service: 'stt', instance: 'stt-0:9100' }],
  },
  {
    alertname: 'ParleyModelNotLoaded',
    name: 'stays quiet while the model is loading within the grace period',
    input: [series(RUNTIME_METRICS.up, target('llm'), '1x30')],
    evalTime: '5m',
    firing: [],
  },
  {
    alertname: 'ParleyModelNotLoaded',
    name: 'stays quiet when the model is loaded',
    input: [series(RUNTIME_METRICS.up, target('tts'), '1x30'), series(METRICS.modelLoaded.name, { ...target('tts'), model: 'voices' }, '1x30')],
    evalTime: '15m',
    firing: [],
  },
  {
    alertname: 'ParleyNoReplicaAnswering',
    name: 'fires for the one service whose replicas are all down',
    input: everyServiceUp('llm'),
    evalTime: '5m',
    firing: [{ service: 'llm' }],
  },
  {
    alertname: 'ParleyNoReplicaAnswering',
    name: 'fires for a service with no scrape target at all',
    input: everyServiceUp().filter((s) => !s.series.includes('service="tts"')),
    evalTime: '5m',
    firing: [{ service: 'tts' }],
  },
  {
    alertname: 'ParleyNoReplicaAnswering',
    name: 'stays quiet when every service has a replica up',
    input: everyServiceUp(),
    evalTime: '5m',
    firing: [],
  },
  {
    alertname: 'ParleyHighErrorRatio',
    name: 'fires when half the requests fail with ENGINE_FAILED',
    input: [
      series(requestCount, { service: 'llm', operation: 'chat', outcome: 'ENGINE_FAILED' }, '0+10x30'),
      series(requestCount, { service: 'llm', operation: 'chat', outcome: 'ok' }, '0+10x30'),
    ],
    evalTime: '15m',
    firing: [{ service: 'llm' }],
  },
  {
    alertname: 'ParleyHighErrorRatio',
    name: "stays quiet when the failures are callers' mistakes and cancels",
    input: [
      series(requestCount, { service: 'gateway', operation: 'POST /api/conversation/text', outcome: '400' }, '0+10x30'),
      series(requestCount, { service: 'tts', operation: 'synthesize', outcome: 'cancelled' }, '0+10x30'),
      series(requestCount, { service: 'tts', operation: 'synthesize', outcome: 'ok' }, '0+10x30'),
    ],
    evalTime: '15m',
    firing: [],
  },
  {
    alertname: 'ParleyHighTurnErrorRatio',
    name: 'fires when turns end in TIMEOUT errors',
    input: [
      series(METRICS.turns.name, { service: 'gateway', route: 'speak-stream', outcome: 'TIMEOUT' }, '0+5x30'),
      series(METRICS.turns.name, { service: 'gateway', route: 'speak-stream', outcome: 'complete' }, '0+10x30'),
    ],
    evalTime: '15m',
    firing: [{ service: 'gateway' }],
  },
  {
    alertname: 'ParleyHighTurnErrorRatio',
    name: 'stays quiet when clients leave turns early or say nothing',
    input: [
      series(METRICS.turns.name, { service: 'gateway', route: 'speak-stream', outcome: 'client_closed' }, '0+5x30'),
      series(METRICS.turns.name, { service: 'gateway', route: 'speak-stream', outcome: 'NO_SPEECH' }, '0+5x30'),
      series(METRICS.turns.name, { service: 'gateway', route: 'speak-stream', outcome: 'complete' }, '0+10x30'),
    ],
    evalTime: '15m',
    firing: [],
  },
  {
    alertname: 'ParleySlowFirstAudio',
    name: `fires when first audio takes 2.5-5 s at p95 (threshold ${THRESHOLDS.timeToFirstAudioP95Seconds} s)`,
    input: firstAudioTurns('5'),
    evalTime: '20m',
    firing: [{ service: 'gateway' }],
  },
  {
    alertname: 'ParleySlowFirstAudio',
    name: 'stays quiet when first audio comes within a second',
    input: firstAudioTurns('1'),
    evalTime: '20m',
    firing: [],
  },
  {
    alertname: 'ParleyQueueSaturated',
    name: 'fires when the queue stays nearly full',
    input: [series(METRICS.queueDepth.name, target('llm'), '15x20'), series(METRICS.queueCapacity.name, target('llm'), '16x20')],
    evalTime: '10m',
    firing: [{ service: 'llm' }],
  },
  {
    alertname: 'ParleyQueueSaturated',
    name: 'stays quiet with a short queue',
    input: [series(METRICS.queueDepth.name, target('llm'), '2x20'), series(METRICS.queueCapacity.name, target('llm'), '16x20')],
    evalTime: '10m',
    firing: [],
  },
  {
    alertname: 'ParleyWhisperServerRestarts',
    name: 'fires after a whisper-server restart',
    input: [series(METRICS.sttServerRestarts.name, { ...target('stt'), model: 'base.en' }, '0x5 1x30')],
    evalTime: '10m',
    firing: [{ service: 'stt', instance: 'stt-0:9100' }],
  },
  {
    alertname: 'ParleyWhisperServerRestarts',
    name: `stays quiet once the restart is older than ${THRESHOLDS.whisperRestartWindow}`,
    input: [series(METRICS.sttServerRestarts.name, { ...target('stt'), model: 'base.en' }, '0x5 1x30')],
    evalTime: '30m',
    firing: [],
  },
];

/** Renders the `{{ $labels.x }}` placeholders of an annotation as Prometheus would. */
function render(text: string, labels: Record<string, string>): string {
  return text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, label: string) => labels[label] ?? '');
}

function expectedAlert(rule: AlertRule, labels: Record<string, string>) {
  const allLabels = { ...labels, ...rule.labels };
  return {
    exp_labels: allLabels,
    exp_annotations: { summary: render(rule.annotations.summary, allLabels), description: render(rule.annotations.description, allLabels) },
  };
}

/** The rule each firing alert comes from (per-service rules share an alert name). */
function ruleFor(alertname: string, labels: Record<string, string>): AlertRule {
  const rule = ALERTS.find((r) => r.alert === alertname && (r.labels.service === undefined || r.labels.service === labels.service));
  if (!rule) throw new Error(`no alert rule ${alertname} for ${JSON.stringify(labels)}`);
  return rule;
}

export function ruleTestsFile(rulesFileName: string) {
  return {
    rule_files: [rulesFileName],
    evaluation_interval: '1m',
    tests: ALERT_CASES.map((testCase) => ({
      name: `${testCase.alertname} ${testCase.name}`,
      interval: '1m',
      input_series: testCase.input,
      alert_rule_test: [
        {
          eval_time: testCase.evalTime,
          alertname: testCase.alertname,
          exp_alerts: testCase.firing.map((labels) => expectedAlert(ruleFor(testCase.alertname, labels), labels)),
        },
      ],
    })),
  };
}
