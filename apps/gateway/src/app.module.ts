import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { MulterModule } from '@nestjs/platform-express';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  BinaryAwareNatsDeserializer,
  DRAIN_STATE,
  MetricsModule,
  NatsConnectionModule,
  NATS_CONNECTION,
  NATS_RECONNECT,
  natsUrl,
  ServiceMetrics,
} from '@parley/service-kit';
import type { GatewayConfig } from './config.js';
import { ConversationTurnUseCase } from './conversation/conversation-turn.use-case.js';
import { AFTER_REPLY_STAGES } from './conversation/turn/after-reply-stage.js';
import { ConversationHistory } from './conversation/turn/conversation-history.js';
import { CHAT, SPEECH, SPEECH_TO_TEXT } from './conversation/turn/ports.js';
import { ReplyGeneration } from './conversation/turn/reply-generation.js';
import { SentenceSpeech } from './conversation/turn/sentence-speech.js';
import { TurnCompletion } from './conversation/turn/turn-completion.js';
import { TurnFeedback } from './conversation/turn/turn-feedback.js';
import { ConversationHttpController } from './conversation/conversation.http.controller.js';
import { EdgeAccess } from './edge/edge-access.js';
import {
  ApiKeyMiddleware,
  OriginGuardMiddleware,
  RateLimitMiddleware,
  StreamCapMiddleware,
} from './edge/edge.middleware.js';
import { HealthHttpController } from './health/health.http.controller.js';
import { JetStreamKvLearnerStore } from './learners/jetstream-kv.learner-store.js';
import { LearnerProgressUseCase } from './learners/learner-progress.use-case.js';
import { LEARNER_STORE } from './learners/learner-store.port.js';
import { LearnersHttpController } from './learners/learners.http.controller.js';
import { HttpMetricsMiddleware } from './http/http-metrics.middleware.js';
import { HttpExceptionFilter } from './http/http-exception.filter.js';
import { ParleyErrorFilter } from './http/parley-error.filter.js';
import { RequestIdMiddleware } from './http/request-id.middleware.js';
import { TurnMetrics } from './http/turn-metrics.js';
import { LlmClient } from './services/llm.client.js';
import { NATS_CLIENT } from './services/nats-client.js';
import { TtsClient } from './services/tts.client.js';
import { SttClient } from './services/stt.client.js';
import { ServiceHealthClient } from './services/service-health.client.js';
import { JetStreamKvSessionStore } from './sessions/jetstream-kv.session-store.js';
import { SESSION_STORE } from './sessions/session-store.port.js';
import { GATEWAY_CONFIG } from './tokens.js';
import { DrainMiddleware } from './shutdown/drain.middleware.js';
import { GatewayDrain } from './shutdown/gateway-drain.js';
import { GatewayShutdown } from './shutdown/gateway-shutdown.js';
import { UpgradeAdmission } from './live/live-admission.js';
import { RealtimeWsGateway } from './realtime/realtime.ws-gateway.js';
import { LiveConversationFactory } from './live/live-conversation.factory.js';
import { LiveGatewayMetrics } from './live/live-metrics.js';
import { LiveTurns } from './live/live-turns.js';
import { LiveWsGateway } from './live/live.ws-gateway.js';
import { SttLiveClient } from './services/stt-live.client.js';
import { AudioSpeechHttpController } from './openai/audio-speech.http.controller.js';
import { AudioSpeechUseCase } from './openai/audio-speech.use-case.js';
import { AudioTranscriptionsHttpController } from './openai/audio-transcriptions.http.controller.js';
import { AudioTranscriptionsUseCase } from './openai/audio-transcriptions.use-case.js';
import { CHAT_MODEL } from './openai/chat-model.port.js';
import { ChatCompletionsHttpController } from './openai/chat-completions.http.controller.js';
import { ChatCompletionsUseCase } from './openai/chat-completions.use-case.js';
import { ModelsHttpController } from './openai/models.http.controller.js';
import { SPEECH_STREAM } from './openai/speech-stream.port.js';
import { AUDIO_ENCODER } from './openai/audio-encoder.port.js';
import { FfmpegAudioEncoder } from './openai/ffmpeg-audio-encoder.js';
import { OpenApiHttpController } from './openapi/openapi.http.controller.js';
import { TtsVoicesClient } from './voices/tts-voices.client.js';
import { VoicesHttpController } from './voices/voices.http.controller.js';

/** The route families that need a key (when keys are configured) and spend from the rate limit. */
const GUARDED_ROUTES = ['api/conversation/*path', 'api/learners/*path', 'v1/*path'];
/** Routes that hold a stream open (capped per client). */
const STREAM_ROUTES = [
  'api/conversation/text-stream',
  'api/conversation/speak-stream',
  'v1/chat/completions',
  'v1/audio/speech',
];

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
            options: {
              servers: natsUrl(),
              ...NATS_RECONNECT,
              name: 'gateway',
              deserializer: new BinaryAwareNatsDeserializer(),
            },
          },
        ]),
      ],
      controllers: [
        ConversationHttpController,
        VoicesHttpController,
        HealthHttpController,
        OpenApiHttpController,
        ModelsHttpController,
        ChatCompletionsHttpController,
        AudioTranscriptionsHttpController,
        AudioSpeechHttpController,
        LearnersHttpController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
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
        {
          provide: LEARNER_STORE,
          inject: [NATS_CONNECTION],
          useFactory: (nats: NatsConnection) => new JetStreamKvLearnerStore(nats, config.learnerBucket),
        },
        LearnerProgressUseCase,
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
        TurnFeedback,
        { provide: AFTER_REPLY_STAGES, useValue: [] },
        ConversationTurnUseCase,
        // Live conversation (WebSocket).
        SttLiveClient,
        LiveTurns,
        UpgradeAdmission,
        { provide: LiveGatewayMetrics, inject: [ServiceMetrics], useFactory: (metrics: ServiceMetrics) => new LiveGatewayMetrics(metrics) },
        LiveConversationFactory,
        LiveWsGateway,
        RealtimeWsGateway,
        TurnMetrics,
        TtsVoicesClient,
        EdgeAccess,
        // The OpenAI-compatible routes, over the same NATS clients.
        { provide: CHAT_MODEL, useExisting: LlmClient },
        { provide: SPEECH_STREAM, useExisting: TtsClient },
        { provide: AUDIO_ENCODER, inject: [GATEWAY_CONFIG], useFactory: (config: GatewayConfig) => new FfmpegAudioEncoder(config.ffmpegPath) },
        ChatCompletionsUseCase,
        AudioTranscriptionsUseCase,
        AudioSpeechUseCase,
        // SIGTERM: refuse new work, let the turns under way finish (see server.ts).
        GatewayDrain,
        { provide: DRAIN_STATE, useExisting: GatewayDrain },
        GatewayShutdown,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware, HttpMetricsMiddleware).forRoutes('*path');
    consumer.apply(OriginGuardMiddleware).forRoutes('api/*path', 'v1/*path');
    // A draining replica refuses new work everywhere but its health routes (probes must still see it).
    consumer
      .apply(DrainMiddleware)
      .exclude('api/health', 'api/health/*path')
      .forRoutes('api/*path', 'v1/*path');
    consumer.apply(ApiKeyMiddleware, RateLimitMiddleware).forRoutes(...GUARDED_ROUTES);
    consumer
      .apply(StreamCapMiddleware)
      .forRoutes(...STREAM_ROUTES.map((path) => ({ path, method: RequestMethod.POST })));
  }
}
