import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { chatRequestSchema, parsePayload, serveCancellable, SUBJECTS, type ChatStreamMessage } from '@parley/contracts';
import { NATS_CONNECTION, streamRpc } from '@parley/service-kit';
import { defer, type Observable } from 'rxjs';
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
  stream(@Payload() payload: unknown): Observable<ChatStreamMessage> {
    return streamRpc(
      defer(() => {
        const request = parsePayload(chatRequestSchema, payload, 'chat request');
        return serveCancellable(this.nats, this.chat.stream(request), {
          service: 'llm',
          requestId: request.request_id,
          maxDurationMs: this.config.maxRequestMs,
        });
      }),
    );
  }
}
