import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { SUBJECTS } from '@parley/contracts';
import { ConcurrencyGate, MetricsModule, NATS_CONNECTION, NatsConnectionModule, ResidentModelModule, ServiceMetrics } from '@parley/service-kit';
import { AUDIO_STORE } from './audio-store/audio-store.port.js';
import { JetStreamAudioStore } from './audio-store/jetstream-audio.store.js';
import type { SttServiceConfig } from './config.js';
import { STT_ENGINE } from './engine/stt-engine.port.js';
import { WhisperServerEngine } from './engine/whisper-server.engine.js';
import { withSttLifecycle } from './health/stt-model-lifecycle.js';
import { STT_CONFIG } from './tokens.js';
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
      controllers: [TranscribeMessageController],
      providers: [
        { provide: STT_CONFIG, useValue: config },
        // One slot per whisper-server child (each serves one request at a time); a bounded queue beyond.
        { provide: ConcurrencyGate, inject: [ServiceMetrics], useFactory: (metrics: ServiceMetrics) => metrics.watchConcurrencyGate(new ConcurrencyGate(config.engine.servers, config.maxQueued)) },
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
