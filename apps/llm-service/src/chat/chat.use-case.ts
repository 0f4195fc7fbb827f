import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  LLM_LIMITS,
  METRICS,
  MODEL_OPERATIONS,
  type ChatDone,
  type ChatRequest,
  type ChatStreamMessage,
} from '@parley/contracts';
import { ConcurrencyGate, engineRequest, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import { LLM_ENGINE, type LlmEngine } from '../engine/llm-engine.port.js';
import { readStructuredAnswer } from '../structured/structured-answer.js';
import { ChunkStamps, NO_CHUNK_STAMPS } from './chunk-stamps.js';

/**
 * Streams one chat completion: text chunks as the engine produces them, then one `done`. With a
 * `response_format` the chunks are pieces of JSON and `done` carries the checked, parsed value
 * (absent when the JSON was cut by the token limit). Unsubscribing (the caller cancelled or the
 * deadline passed) aborts the generation.
 */
@Injectable()
export class ChatUseCase {
  constructor(
    @Inject(LLM_ENGINE) private readonly engine: LlmEngine,
    @Inject(ModelLifecycle) private readonly model: ModelLifecycle,
    @Inject(ConcurrencyGate) private readonly gate: ConcurrencyGate,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Optional() @Inject(ChunkStamps) private readonly stamps: ChunkStamps = NO_CHUNK_STAMPS,
  ) {
    this.tokens = metrics.counter(METRICS.llmTokens);
  }

  /** Tokens read and written (tokens per second on the dashboards). */
  private readonly tokens;

  stream(request: ChatRequest): Observable<ChatStreamMessage> {
    const format = request.response_format;
    const generation = {
      messages: request.messages,
      maxTokens: request.max_tokens ?? LLM_LIMITS.maxTokens.default,
      temperature: request.temperature ?? LLM_LIMITS.temperature.default,
      responseFormat: format,
      topP: request.top_p,
      seed: request.seed,
      stop: request.stop,
    };
    return engineRequest<ChatStreamMessage>({
      operation: MODEL_OPERATIONS.llm,
      model: this.model,
      gate: this.gate,
      metrics: this.metrics,
      run: async (emit, signal) => {
        let answer = '';
        const stamped = this.stamps.begin(request);
        const result = await this.engine.generate(
          generation,
          (text) => {
            if (format) answer += text;
            stamped(() => emit({ type: 'chunk', text }));
          },
          signal,
        );
        const labels = { service: this.metrics.service, model: this.engine.modelName };
        this.tokens.inc({ ...labels, kind: 'prompt' }, result.promptTokens);
        this.tokens.inc({ ...labels, kind: 'completion' }, result.completionTokens);
        const value =
          format && result.stopReason !== 'cancelled'
            ? readStructuredAnswer(answer, format, result.stopReason)
            : undefined;
        const done: ChatDone = {
          type: 'done',
          stop_reason: result.stopReason,
          prompt_tokens: result.promptTokens,
          completion_tokens: result.completionTokens,
          model: this.engine.modelName,
          replica: this.model.replica,
          ...(value ? { value } : {}),
        };
        return [done];
      },
      // Structured output cut by the token limit is counted apart: it produced no answer.
      outcome: ([done]) => (format && done?.type === 'done' && !done.value ? 'truncated' : 'ok'),
    });
  }
}
