import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  chatRequestSchema,
  chatStreamMessageSchema,
  parsePayload,
  SUBJECTS,
  type ChatMessage,
  type ChatRequest,
  type ChatStreamMessage,
} from '@parley/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { brokerStatus, NATS_CONNECTION, replyParser, streamRequest } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import type { Chat, ChatOptions } from '../conversation/turn/ports.js';
import type { ChatModel, CompletionOptions } from '../openai/chat-model.port.js';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

/** The Chat port (turns) and the ChatModel port (OpenAI completions) over the llm-service's streaming chat subject. */
@Injectable()
export class LlmClient implements Chat, ChatModel {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  chat(messages: ChatMessage[], options: ChatOptions = {}): Observable<ChatStreamMessage> {
    return this.request({
      messages,
      max_tokens: options.maxTokens ?? this.config.llmMaxTokens,
      ...(options.responseFormat ? { response_format: options.responseFormat } : {}),
    });
  }

  /** A raw completion for the OpenAI routes: the caller's limits and sampling (the service's defaults otherwise). */
  complete(messages: ChatMessage[], options: CompletionOptions): Observable<ChatStreamMessage> {
    return this.request({
      messages,
      max_tokens: options.maxTokens,
      temperature: options.temperature,
      top_p: options.topP,
      seed: options.seed,
      stop: options.stop,
    });
  }

  private request(fields: Omit<ChatRequest, 'request_id'>): Observable<ChatStreamMessage> {
    const request = parsePayload(chatRequestSchema, { request_id: newRequestId(), ...fields }, 'chat request');
    return streamRequest(this.client, request, {
      service: 'llm',
      subject: SUBJECTS.llm.chat,
      parse: replyParser(chatStreamMessageSchema, 'llm'),
      firstReplyTimeoutMs: this.config.llmFirstReplyTimeoutMs,
      idleTimeoutMs: this.config.llmIdleTimeoutMs,
      broker: brokerStatus(this.nats),
      livenessTimeoutMs: this.config.serviceLivenessTimeoutMs,
    });
  }
}
