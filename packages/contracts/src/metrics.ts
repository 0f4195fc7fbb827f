import { HTTP_STATUS_BY_CODE, type ErrorCode } from './errors.js';

/**
 * The metric vocabulary: every Prometheus name Parley exports, its labels and help, defined once.
 * The services register their metrics from these definitions (service-kit's ServiceMetrics) and
 * the dashboards and alert rules (`@parley/deploy`) build their PromQL from the same constants,
 * so renaming a metric here changes both, and removing one breaks the build of whoever used it.
 */

/** Every Parley process, as it appears in the `service` label (set on every series it exports). */
export const METRIC_SERVICES = ['gateway', 'llm', 'stt', 'tts'] as const;
export type MetricService = (typeof METRIC_SERVICES)[number];

/** The model services (each keeps a model resident); the gateway has none. */
export const MODEL_SERVICES = ['llm', 'stt', 'tts'] as const satisfies readonly MetricService[];

/** The `operation` label of the model services' requests. */
export const MODEL_OPERATIONS = { llm: 'chat', stt: 'transcribe', tts: 'synthesize' } as const;

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition<Label extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly Label[];
  /** Histograms only: upper bounds in the metric's unit. */
  readonly buckets?: readonly number[];
}

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function metric<const Label extends string>(definition: MetricDefinition<Label>): MetricDefinition<Label> {
  return definition;
}

export const METRICS = {
  // --- every service -------------------------------------------------------------------------
  requestDuration: metric({
    name: 'parley_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of requests handled by this process, by operation and outcome',
    labelNames: ['service', 'operation', 'outcome'],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  requestsInFlight: metric({
    name: 'parley_requests_in_flight',
    type: 'gauge',
    help: 'Requests being handled right now, by operation',
    labelNames: ['service', 'operation'],
  }),
  cancelToStop: metric({
    name: 'parley_cancel_to_stop_seconds',
    type: 'histogram',
    help: 'Time from a request being cancelled to its engine work having stopped',
    labelNames: ['service', 'operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  }),

  // --- model services --------------------------------------------------------------------------
  modelLoaded: metric({
    name: 'parley_model_loaded',
    type: 'gauge',
    help: 'Whether the model is loaded (1) or not (0) in this process',
    labelNames: ['service', 'model'],
  }),
  modelLoads: metric({
    name: 'parley_model_loads_total',
    type: 'counter',
    help: 'Model loads performed by this process',
    labelNames: ['service', 'model'],
  }),
  modelLoadDuration: metric({
    name: 'parley_model_load_duration_seconds',
    type: 'gauge',
    help: 'How long the last load of the model took in this process',
    labelNames: ['service', 'model'],
  }),
  queueDepth: metric({
    name: 'parley_queue_depth',
    type: 'gauge',
    help: 'Requests waiting for a free engine slot in this process',
    labelNames: ['service'],
  }),
  queueCapacity: metric({
    name: 'parley_queue_capacity',
    type: 'gauge',
    help: 'Requests that may wait for an engine slot before new ones are refused with SERVICE_BUSY',
    labelNames: ['service'],
  }),
  engineSlots: metric({
    name: 'parley_engine_slots',
    type: 'gauge',
    help: 'Requests the engine of this process serves at the same time',
    labelNames: ['service'],
  }),
  llmTokens: metric({
    name: 'parley_llm_tokens_total',
    type: 'counter',
    help: 'Tokens read (prompt) and written (completion) by the language model',
    labelNames: ['service', 'model', 'kind'],
  }),
  ttsRealTimeFactor: metric({
    name: 'parley_tts_real_time_factor',
    type: 'histogram',
    help: 'Synthesis time divided by the duration of the speech produced (below 1 is faster than real time)',
    labelNames: ['service', 'voice'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  }),
  ttsAudio: metric({
    name: 'parley_tts_audio_seconds_total',
    type: 'counter',
    help: 'Seconds of speech synthesized',
    labelNames: ['service', 'voice'],
  }),
  sttServerRestarts: metric({
    name: 'parley_stt_server_restarts_total',
    type: 'counter',
    help: 'whisper-server children restarted by this process after they died (each restart reloads the model)',
    labelNames: ['service', 'model'],
  }),

  // --- gateway: conversation turns -------------------------------------------------------------
  turns: metric({
    name: 'parley_turns_total',
    type: 'counter',
    help: 'Streamed conversation turns by route and how they ended (complete, an error code, or client_closed)',
    labelNames: ['service', 'route', 'outcome'],
  }),
  turnTimeToFirstChunk: metric({
    name: 'parley_turn_time_to_first_chunk_seconds',
    type: 'histogram',
    help: 'From the turn starting (request received and checked) to the first text of the answer being sent',
    labelNames: ['service', 'route'],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  turnTimeToFirstAudio: metric({
    name: 'parley_turn_time_to_first_audio_seconds',
    type: 'histogram',
    help: 'From the turn starting (request received and checked) to the first spoken sentence being sent',
    labelNames: ['service', 'route'],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
} as const;

export type MetricKey = keyof typeof METRICS;

/**
 * Metrics every process exports that Parley does not define: prom-client's default process and
 * Node.js metrics, and Prometheus' own `up` for each scrape target.
 */
export const RUNTIME_METRICS = {
  up: 'up',
  cpuSeconds: 'process_cpu_seconds_total',
  residentMemoryBytes: 'process_resident_memory_bytes',
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  eventLoopLagP99Seconds: 'nodejs_eventloop_lag_p99_seconds',
} as const;

/** The `outcome` of a request that succeeded, or ended because the caller left. */
export const OUTCOME_OK = 'ok';
export const OUTCOME_CANCELLED = 'cancelled';
export const OUTCOME_CLIENT_CLOSED = 'client_closed';
export const TURN_OUTCOME_COMPLETE = 'complete';

/**
 * Outcomes that are the service's fault (not the caller's, not a cancel): error codes answered
 * with a 5xx and HTTP 5xx statuses. A regular expression for PromQL's `=~`.
 */
export const SERVER_FAULT_OUTCOMES_REGEX = [
  '5[0-9][0-9]',
  ...(Object.entries(HTTP_STATUS_BY_CODE) as Array<[ErrorCode, number]>)
    .filter(([, status]) => status >= 500)
    .map(([code]) => code),
].join('|');

/** The time-series names a histogram exports. */
export function histogramSeries(definition: MetricDefinition): { bucket: string; count: string; sum: string } {
  if (definition.type !== 'histogram') throw new Error(`${definition.name} is a ${definition.type}, not a histogram`);
  return { bucket: `${definition.name}_bucket`, count: `${definition.name}_count`, sum: `${definition.name}_sum` };
}
