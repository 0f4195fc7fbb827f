import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { MulterModule } from '@nestjs/platform-express';
import type { NatsConnection } from '@nats-io/transport-node';
import { BinaryAwareNatsDeserializer, MetricsModule, NatsConnectionModule, NATS_CONNECTION, natsUrl, ServiceMetrics } from '@parley/service-kit';
import type { GatewayConfig } from './config.js';
import { ConversationTurnUseCase } from './conversation/conversation-turn.use-case.js';
import { AFTER_REPLY_STAGES } from './conversation/turn/after-reply-stage.js';
import { ConversationHistory } from './conversation/turn/conversation-history.js';
import { CHAT, SPEECH, SPEECH_TO_TEXT } from './conversation/turn/ports.js';
import { ReplyGeneration } from './conversation/turn/reply-generation.js';
import { SentenceSpeech } from './conversation/turn/sentence-speech.js';
import { TurnCompletion } from './conversation/turn/turn-completion.js';
import { ConversationHttpController } from './conversation/conversation.http.controller.js';
import { HealthHttpController } from './health/health.http.controller.js';
import { HttpMetricsMiddleware } from './http/http-metrics.middleware.js';
import { ParleyErrorFilter } from './http/parley-error.filter.js';
import { RateLimitMiddleware } from './http/rate-limit.middleware.js';
import { LlmClient } from './services/llm.client.js';
import { NATS_CLIENT } from './services/nats-client.js';
import { TtsClient } from './services/tts.client.js';
import { SttClient } from './services/stt.client.js';
import { ServiceHealthClient } from './services/service-health.client.js';
import { JetStreamKvSessionStore } from './sessions/jetstream-kv.session-store.js';
import { SESSION_STORE } from './sessions/session-store.port.js';
import { GATEWAY_CONFIG } from './tokens.js';
import { LiveAdmission } from './live/live-admission.js';
import { LiveConversationFactory } from './live/live-conversation.factory.js';
import { LiveGatewayMetrics } from './live/live-metrics.js';
import { LiveTurns } from './live/live-turns.js';
import { LiveWsGateway } from './live/live.ws-gateway.js';
import { DefaultUpgradeAccess, UPGRADE_ACCESS } from './live/upgrade-access.js';
import { SttLiveClient } from './services/stt-live.client.js';

@Module({})
export class GatewayModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        NatsConnectionModule.forRoot('gateway'),
        MetricsModule.forService('gateway'),
        // Uploads stay in memory (they go straight to the object store) and are capped.
        MulterModule.register({ limits: { fileSize: config.uploadMaxBytes, files: 1 } }),
        ClientsModule.register([
          {
            name: NATS_CLIENT,
            transport: Transport.NATS,
            // Replies with audio arrive as binary frames; JSON replies are read as before.
            options: { servers: natsUrl(), name: 'gateway', deserializer: new BinaryAwareNatsDeserializer() },
          },
        ]),
      ],
      controllers: [ConversationHttpController, HealthHttpController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ParleyErrorFilter },
        {
          provide: SESSION_STORE,
          inject: [NATS_CONNECTION],
          useFactory: (nats: NatsConnection) =>
            new JetStreamKvSessionStore(nats, {
              bucket: config.sessionBucket,
              ttlSeconds: config.sessionTtlSeconds,
              maxMessages: config.sessionMaxMessages,
            }),
        },
        // The turn's ports, provided by the NATS clients.
        LlmClient,
        TtsClient,
        SttClient,
        { provide: CHAT, useExisting: LlmClient },
        { provide: SPEECH, useExisting: TtsClient },
        { provide: SPEECH_TO_TEXT, useExisting: SttClient },
        ServiceHealthClient,
        // The turn and its collaborators; stages added to every turn before `complete` (none yet).
        ConversationHistory,
        ReplyGeneration,
        SentenceSpeech,
        TurnCompletion,
        { provide: AFTER_REPLY_STAGES, useValue: [] },
        ConversationTurnUseCase,
        // Live conversation (WebSocket).
        SttLiveClient,
        LiveTurns,
        LiveAdmission,
        { provide: UPGRADE_ACCESS, useFactory: () => new DefaultUpgradeAccess() },
        { provide: LiveGatewayMetrics, inject: [ServiceMetrics], useFactory: (metrics: ServiceMetrics) => new LiveGatewayMetrics(metrics) },
        LiveConversationFactory,
        LiveWsGateway,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
    consumer.apply(RateLimitMiddleware).forRoutes('api/conversation/*path');
  }
}
