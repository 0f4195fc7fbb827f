import { Module, type DynamicModule } from '@nestjs/common';
import { SUBJECTS } from '@parley/contracts';
import { ConcurrencyGate, MetricsModule, NatsConnectionModule, ResidentModelModule, ServiceMetrics } from '@parley/service-kit';
import type { TtsServiceConfig } from './config.js';
import { SherpaOnnxTtsEngine } from './engine/sherpa-onnx.engine.js';
import { TTS_ENGINE } from './engine/tts-engine.port.js';
import { MAX_PCM_BYTES_PER_MESSAGE, SYNTHESIS_OPTIONS, type SynthesisOptions } from './synthesize/synthesis-options.js';
import { SynthesizeMessageController } from './synthesize/synthesize.message.controller.js';
import { SynthesizeUseCase } from './synthesize/synthesize.use-case.js';
import { TTS_CONFIG } from './tokens.js';
import { VoicesMessageController } from './voices/voices.message.controller.js';

@Module({})
export class TtsServiceModule {
  static forRoot(config: TtsServiceConfig): DynamicModule {
    const options: SynthesisOptions = {
      generationTimeoutMs: config.generationTimeoutMs,
      maxPcmBytesPerMessage: MAX_PCM_BYTES_PER_MESSAGE,
    };
    return {
      module: TtsServiceModule,
      imports: [
        NatsConnectionModule.forRoot('tts-service'),
        MetricsModule.forService('tts'),
        ResidentModelModule.register({
          service: 'tts',
          engineToken: TTS_ENGINE,
          createEngine: () => new SherpaOnnxTtsEngine(config.engine),
          healthSubject: SUBJECTS.tts.health,
        }),
      ],
      controllers: [SynthesizeMessageController, VoicesMessageController],
      providers: [
        { provide: TTS_CONFIG, useValue: config },
        { provide: SYNTHESIS_OPTIONS, useValue: options },
        // Generations at once on all voices; a bounded queue beyond.
        { provide: ConcurrencyGate, inject: [ServiceMetrics], useFactory: (metrics: ServiceMetrics) => metrics.watchConcurrencyGate(new ConcurrencyGate(config.maxConcurrent, config.maxQueued)) },
        SynthesizeUseCase,
      ],
    };
  }
}
