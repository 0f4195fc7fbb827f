import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  chatRequestSchema,
  chatStreamMessageSchema,
  parsePayload,
  SUBJECTS,
  type ChatMessage,
  type ChatStreamMessage,
} from '@parley/contracts';
import { replyParser, streamRequest } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import type { Chat } from '../conversation/turn/ports.js';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

/** The Chat port over the llm-service's streaming chat subject. */
@Injectable()
export class LlmClient implements Chat {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  chat(messages: ChatMessage[]): Observable<ChatStreamMessage> {
    const request = parsePayload(
      chatRequestSchema,
      { request_id: newRequestId(), messages, max_tokens: this.config.llmMaxTokens },
      'chat request',
    );
    return streamRequest(this.client, request, {
      service: 'llm',
      subject: SUBJECTS.llm.chat,
      parse: replyParser(chatStreamMessageSchema, 'llm'),
      firstReplyTimeoutMs: this.config.llmFirstReplyTimeoutMs,
      idleTimeoutMs: this.config.llmIdleTimeoutMs,
    });
  }
}
