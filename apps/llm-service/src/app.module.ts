import { Module, type DynamicModule } from '@nestjs/common';
import { SUBJECTS } from '@parley/contracts';
import {
  ConcurrencyGate,
  MetricsModule,
  NATS_CONNECTION,
  NatsConnectionModule,
  ResidentModelModule,
  ServiceMetrics,
} from '@parley/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import { ChatMessageController } from './chat/chat.message.controller.js';
import { ChatUseCase } from './chat/chat.use-case.js';
import { ChunkStamps } from './chat/chunk-stamps.js';
import type { LlmServiceConfig } from './config.js';
import { LLM_ENGINE } from './engine/llm-engine.port.js';
import { NodeLlamaCppEngine } from './engine/node-llama-cpp.engine.js';
import { LLM_CONFIG } from './tokens.js';

@Module({})
export class LlmServiceModule {
  static forRoot(config: LlmServiceConfig): DynamicModule {
    return {
      module: LlmServiceModule,
      imports: [
        NatsConnectionModule.forRoot('llm-service'),
        MetricsModule.forService('llm'),
        ResidentModelModule.register({
          service: 'llm',
          engineToken: LLM_ENGINE,
          createEngine: () => new NodeLlamaCppEngine(config.engine),
          healthSubject: SUBJECTS.llm.health,
        }),
      ],
      controllers: [ChatMessageController],
      providers: [
        { provide: LLM_CONFIG, useValue: config },
        // One slot per context sequence; a bounded queue beyond.
        {
          provide: ConcurrencyGate,
          inject: [ServiceMetrics],
          useFactory: (metrics: ServiceMetrics) =>
            metrics.watchConcurrencyGate(new ConcurrencyGate(config.engine.sequences, config.maxQueued)),
        },
        {
          provide: ChunkStamps,
          useFactory: (nats: NatsConnection) => new ChunkStamps(nats, config.benchStampSubject),
          inject: [NATS_CONNECTION],
        },
        ChatUseCase,
      ],
    };
  }
}
