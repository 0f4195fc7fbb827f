import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { chatRequestSchema, SUBJECTS, type ChatStreamMessage, type StreamHeartbeat } from '@parley/contracts';
import { handleStreamRequest, NATS_CONNECTION } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import { LLM_CONFIG } from '../tokens.js';
import type { LlmServiceConfig } from '../config.js';
import { ChatUseCase } from './chat.use-case.js';

@Controller()
export class ChatMessageController {
  constructor(
    @Inject(ChatUseCase) private readonly chat: ChatUseCase,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(LLM_CONFIG) private readonly config: LlmServiceConfig,
  ) {}

  @MessagePattern(SUBJECTS.llm.chat)
  stream(@Payload() payload: unknown): Observable<ChatStreamMessage | StreamHeartbeat> {
    return handleStreamRequest(
      this.nats,
      payload,
      { service: 'llm', schema: chatRequestSchema, what: 'chat request', maxDurationMs: this.config.maxRequestMs },
      (request) => this.chat.stream(request),
    );
  }
}
