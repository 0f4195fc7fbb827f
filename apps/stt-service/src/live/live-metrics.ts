import { STT_LIVE_METRICS, type UTTERANCE_ENDINGS } from '@parley/contracts';
import type { ServiceMetrics } from '@parley/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { TranscriptionScheduler } from '../scheduler/transcription-scheduler.js';

/** The live-audio metrics of one stt-service process (names in contracts' STT_LIVE_METRICS). */
export class LiveMetrics {
  readonly activeStreams: Gauge;
  private readonly utterances: Counter<'reason'>;
  private readonly vadSeconds: Counter;
  private readonly audioSeconds: Counter;
  private readonly partials: Counter;
  private readonly partialsDropped: Counter;
  private readonly speechEndToFinal: Histogram;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.activeStreams = new Gauge({ name: STT_LIVE_METRICS.activeStreams, help: 'Live audio streams owned by this replica', registers });
    this.utterances = new Counter({
      name: STT_LIVE_METRICS.utterances,
      help: 'Utterances found in live audio, by why they ended (silence, commit, close, max_length)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.vadSeconds = new Counter({
      name: STT_LIVE_METRICS.vadSeconds,
      help: 'Time spent running voice activity detection (on the event loop), in seconds',
      registers,
    });
    this.audioSeconds = new Counter({ name: STT_LIVE_METRICS.audioSeconds, help: 'Live audio received, in seconds of audio', registers });
    this.partials = new Counter({ name: STT_LIVE_METRICS.partials, help: 'Partial transcriptions sent', registers });
    this.partialsDropped = new Counter({
      name: STT_LIVE_METRICS.partialsDropped,
      help: 'Partial transcriptions dropped because their utterance had ended when their turn came or their result arrived',
      registers,
    });
    this.speechEndToFinal = new Histogram({
      name: STT_LIVE_METRICS.speechEndToFinal,
      help: 'From the arrival of an utterance\'s last voiced sample to its final transcription being sent, in seconds',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
      registers,
    });
  }

  /** The scheduler's queue, read at scrape time. */
  watchScheduler(metrics: ServiceMetrics, scheduler: TranscriptionScheduler): void {
    new Gauge({
      name: STT_LIVE_METRICS.waitingTranscriptions,
      help: 'Transcriptions waiting for whisper-server, by priority (finals first; partials pause while finals wait)',
      labelNames: ['priority'] as const,
      registers: [metrics.registry],
      collect() {
        this.set({ priority: 'final' }, scheduler.waiting.finals);
        this.set({ priority: 'partial' }, scheduler.waiting.partials);
      },
    });
  }

  utteranceEnded(reason: (typeof UTTERANCE_ENDINGS)[number]): void {
    this.utterances.inc({ reason });
  }

  vadRan(seconds: number, audioSeconds: number): void {
    this.vadSeconds.inc(seconds);
    this.audioSeconds.inc(audioSeconds);
  }

  partialSent(): void {
    this.partials.inc();
  }

  partialDropped(): void {
    this.partialsDropped.inc();
  }

  finalSent(secondsSinceSpeechEnd: number): void {
    this.speechEndToFinal.observe(secondsSinceSpeechEnd);
  }
}
