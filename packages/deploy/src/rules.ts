import { METRICS, MODEL_SERVICES, METRIC_SERVICES, RUNTIME_METRICS, SERVER_FAULT_OUTCOMES_REGEX } from '@parley/contracts';
import { quantile, ratio, selector, sumRate } from './promql.js';

/**
 * Prometheus recording and alerting rules, written against the metric vocabulary and written
 * out to deploy/prometheus/rules.yml (and, for the Prometheus operator, as a PrometheusRule).
 * Thresholds are named here; change them and regenerate (`npm run build -w @parley/deploy`).
 */

export const THRESHOLDS = {
  /** A model load may take minutes (a large GGUF from a slow disk); longer than this is stuck. */
  modelLoadGrace: '10m',
  errorRatio: 0.05,
  timeToFirstAudioP95Seconds: 3,
  queueSaturation: 0.8,
  whisperRestartWindow: '15m',
} as const;

const WINDOW = '5m';

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'warning' | 'critical'; service?: string };
  annotations: { summary: string; description: string };
}

export const RECORDING_RULES = {
  requestErrorRatio: {
    record: 'parley:request_error_ratio:rate5m',
    expr: ratio(
      sumRate(METRICS.requestDuration, ['service'], { outcome: `~${SERVER_FAULT_OUTCOMES_REGEX}` }, WINDOW),
      sumRate(METRICS.requestDuration, ['service'], {}, WINDOW),
    ),
  },
  turnErrorRatio: {
    record: 'parley:turn_error_ratio:rate5m',
    expr: ratio(
      sumRate(METRICS.turns, ['service'], { outcome: `~${SERVER_FAULT_OUTCOMES_REGEX}` }, WINDOW),
      sumRate(METRICS.turns, ['service'], {}, WINDOW),
    ),
  },
  timeToFirstAudioP95: {
    record: 'parley:turn_time_to_first_audio_seconds:p95_5m',
    expr: quantile(0.95, METRICS.turnTimeToFirstAudio, ['service'], {}, WINDOW),
  },
  queueSaturation: {
    record: 'parley:queue_saturation:ratio',
    expr: `max by (service) (${METRICS.queueDepth.name} / ${METRICS.queueCapacity.name})`,
  },
} satisfies Record<string, RecordingRule>;

const modelServicesRegex = MODEL_SERVICES.join('|');

export const ALERTS: AlertRule[] = [
  {
    alert: 'ParleyModelNotLoaded',
    expr:
      `max by (service, instance) (${selector(RUNTIME_METRICS.up, { service: `~${modelServicesRegex}` })}) == 1 ` +
      `unless on (service, instance) max by (service, instance) (${METRICS.modelLoaded.name}) == 1`,
    for: THRESHOLDS.modelLoadGrace,
    labels: { severity: 'critical' },
    annotations: {
      summary: '{{ $labels.service }} replica {{ $labels.instance }} has no model loaded',
      description: `The replica answers scrapes but its model has not loaded for ${THRESHOLDS.modelLoadGrace} (failed, or stuck loading): its readiness probe keeps it out of service. Read its log for the load error.`,
    },
  },
  ...METRIC_SERVICES.map(
    (service): AlertRule => ({
      alert: 'ParleyNoReplicaAnswering',
      expr: `absent(${selector(RUNTIME_METRICS.up, { service })} == 1)`,
      for: '2m',
      labels: { severity: 'critical', service },
      annotations: {
        summary: `no ${service} replica answers`,
        description: `Prometheus has reached no ${service} replica for 2 minutes: every request needing it fails.`,
      },
    }),
  ),
  {
    alert: 'ParleyHighErrorRatio',
    expr: `${RECORDING_RULES.requestErrorRatio.record} > ${THRESHOLDS.errorRatio}`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: '{{ $labels.service }}: too many requests fail',
      description: `More than ${THRESHOLDS.errorRatio * 100}% of the service's requests ended with a server-side error code (5xx) over 5 minutes.`,
    },
  },
  {
    alert: 'ParleyHighTurnErrorRatio',
    expr: `${RECORDING_RULES.turnErrorRatio.record} > ${THRESHOLDS.errorRatio}`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'too many conversation turns end in an error',
      description: `More than ${THRESHOLDS.errorRatio * 100}% of streamed turns ended with a server-side error event (5xx codes; not NO_SPEECH or other callers' mistakes) over 5 minutes (the Gateway dashboard shows the codes).`,
    },
  },
  {
    alert: 'ParleySlowFirstAudio',
    expr: `${RECORDING_RULES.timeToFirstAudioP95.record} > ${THRESHOLDS.timeToFirstAudioP95Seconds}`,
    for: '10m',
    labels: { severity: 'warning' },
    annotations: {
      summary: `p95 time to first audio is above ${THRESHOLDS.timeToFirstAudioP95Seconds} s`,
      description: `Learners wait more than ${THRESHOLDS.timeToFirstAudioP95Seconds} s for the first spoken sentence (p95 over 5 minutes). Look at queueing and latency per stage on the overview.`,
    },
  },
  {
    alert: 'ParleyQueueSaturated',
    expr: `${RECORDING_RULES.queueSaturation.record} > ${THRESHOLDS.queueSaturation}`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: `{{ $labels.service }} queue is more than ${THRESHOLDS.queueSaturation * 100}% full`,
      description: 'Requests wait for an engine slot and new ones will soon be refused with SERVICE_BUSY: add replicas (or let the autoscaler).',
    },
  },
  {
    alert: 'ParleyWhisperServerRestarts',
    expr: `sum by (service, instance) (increase(${METRICS.sttServerRestarts.name}[${THRESHOLDS.whisperRestartWindow}])) > 0`,
    labels: { severity: 'warning' },
    annotations: {
      summary: 'whisper-server restarted on {{ $labels.instance }}',
      description: `A whisper-server child died and was restarted in the last ${THRESHOLDS.whisperRestartWindow} (each restart reloads the model; requests wait meanwhile). Read the stt-service log for the reason.`,
    },
  },
];

/** The rules file Prometheus loads (`rule_files`). */
export function rulesFile() {
  return {
    groups: [
      { name: 'parley.recording', rules: Object.values(RECORDING_RULES) },
      { name: 'parley.alerts', rules: ALERTS },
    ],
  };
}
