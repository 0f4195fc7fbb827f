import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { SUBJECTS } from '@parley/contracts';
import { MetricsModule, NATS_CONNECTION, NatsConnectionModule, ResidentModelModule, ServiceMetrics } from '@parley/service-kit';
import { AUDIO_STORE } from './audio-store/audio-store.port.js';
import { JetStreamAudioStore } from './audio-store/jetstream-audio.store.js';
import type { SttServiceConfig } from './config.js';
import { STT_ENGINE } from './engine/stt-engine.port.js';
import { WhisperServerEngine } from './engine/whisper-server.engine.js';
import { withSttLifecycle } from './health/stt-model-lifecycle.js';
import { LIVE_AUDIO_SOURCE } from './live/live-audio-source.port.js';
import { LiveMetrics } from './live/live-metrics.js';
import { LiveMessageController } from './live/live.message.controller.js';
import { LiveTranscriptionUseCase } from './live/live-transcription.use-case.js';
import { NatsLiveAudioSource } from './live/nats-live-audio.source.js';
import { TranscriptionScheduler } from './scheduler/transcription-scheduler.js';
import { STT_CONFIG } from './tokens.js';
import { SileroVadPool } from './vad/silero.vad.js';
import { VAD_POOL } from './vad/voice-activity-detector.port.js';
import { TranscribeMessageController } from './transcribe/transcribe.message.controller.js';
import { TranscribeUseCase } from './transcribe/transcribe.use-case.js';

@Module({})
export class SttServiceModule {
  static forRoot(config: SttServiceConfig): DynamicModule {
    return {
      module: SttServiceModule,
      imports: [
        NatsConnectionModule.forRoot('stt-service'),
        MetricsModule.forService('stt'),
        withSttLifecycle(
          ResidentModelModule.register({
            service: 'stt',
            engineToken: STT_ENGINE,
            createEngine: () => new WhisperServerEngine(config.engine),
            healthSubject: SUBJECTS.stt.health,
          }),
          STT_ENGINE,
        ),
      ],
      controllers: [TranscribeMessageController, LiveMessageController],
      providers: [
        { provide: STT_CONFIG, useValue: config },
        { provide: LiveMetrics, inject: [ServiceMetrics], useFactory: (metrics: ServiceMetrics) => new LiveMetrics(metrics) },
        {
          // One slot per whisper-server child (each serves one request at a time); finals before partials.
          provide: TranscriptionScheduler,
          inject: [LiveMetrics, ServiceMetrics],
          useFactory: (live: LiveMetrics, metrics: ServiceMetrics) => {
            const scheduler = new TranscriptionScheduler(config.engine.servers, config.maxQueued, {
              // A few streams' partials per child may wait: taking turns, each stream gets some.
              maxWaitingPartials: 4 * config.engine.servers,
              onStaleDropped: () => live.partialDropped(),
            });
            live.watchScheduler(metrics, scheduler);
            // The queue-depth, capacity and slot gauges every model service exports.
            return metrics.watchConcurrencyGate(scheduler);
          },
        },
        {
          provide: VAD_POOL,
          useFactory: async () => {
            const { modelPath, warm, maxIdle, ...settings } = config.live.vad;
            const pool = new SileroVadPool(settings, { modelPath, warm, maxIdle });
            // Without it live streams are refused (MODEL_NOT_LOADED); uploads still work.
            await pool.load().catch((error: unknown) => new Logger('silero-vad').error(`voice activity detection unavailable: ${String(error)}`));
            return pool;
          },
        },
        { provide: LIVE_AUDIO_SOURCE, inject: [NATS_CONNECTION], useFactory: (nats: NatsConnection) => new NatsLiveAudioSource(nats) },
        LiveTranscriptionUseCase,
        {
          provide: AUDIO_STORE,
          inject: [NATS_CONNECTION],
          useFactory: (nats: NatsConnection) => new JetStreamAudioStore(nats),
        },
        TranscribeUseCase,
      ],
    };
  }
}
