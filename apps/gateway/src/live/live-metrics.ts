import { LIVE_GATEWAY_METRICS } from '@parley/contracts';
import type { ServiceMetrics } from '@parley/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { LiveConversationMetrics } from './live-conversation.js';

const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

/** The gateway's live-conversation metrics (names in contracts' LIVE_GATEWAY_METRICS). */
export class LiveGatewayMetrics implements LiveConversationMetrics {
  readonly connections: Gauge;
  private readonly turns: Counter<'outcome'>;
  private readonly interruptions: Counter;
  private readonly toTranscription: Histogram;
  private readonly toFirstAudio: Histogram;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.connections = new Gauge({ name: LIVE_GATEWAY_METRICS.connections, help: 'Open live conversation sockets', registers });
    this.turns = new Counter({
      name: LIVE_GATEWAY_METRICS.turns,
      help: 'Live turns by how they ended (complete, interrupted, error)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.interruptions = new Counter({ name: LIVE_GATEWAY_METRICS.interruptions, help: 'Live turns cut by the learner (barge-in, typing, interrupt)', registers });
    this.toTranscription = new Histogram({
      name: LIVE_GATEWAY_METRICS.speechEndToTranscription,
      help: 'From the arrival of the last voiced sample of an utterance to its transcription, in seconds',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.toFirstAudio = new Histogram({
      name: LIVE_GATEWAY_METRICS.speechEndToFirstAudio,
      help: 'From the arrival of the last voiced sample of an utterance to the first audio of its answer, in seconds',
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  turnEnded(outcome: 'complete' | 'interrupted' | 'error'): void {
    this.turns.inc({ outcome });
    if (outcome === 'interrupted') this.interruptions.inc();
  }

  speechEndToTranscription(seconds: number): void {
    this.toTranscription.observe(seconds);
  }

  speechEndToFirstAudio(seconds: number): void {
    this.toFirstAudio.observe(seconds);
  }
}
