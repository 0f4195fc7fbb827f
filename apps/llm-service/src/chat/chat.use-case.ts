import { Inject, Injectable } from '@nestjs/common';
import { LLM_LIMITS, type ChatRequest, type ChatStreamMessage } from '@parley/contracts';
import { ConcurrencyGate, engineRequest, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import { LLM_ENGINE, type LlmEngine } from '../engine/llm-engine.port.js';

/**
 * Streams one chat completion: text chunks as the engine produces them, then one `done`.
 * Unsubscribing (the caller cancelled or the deadline passed) aborts the generation.
 */
@Injectable()
export class ChatUseCase {
  constructor(
    @Inject(LLM_ENGINE) private readonly engine: LlmEngine,
    @Inject(ModelLifecycle) private readonly model: ModelLifecycle,
    @Inject(ConcurrencyGate) private readonly gate: ConcurrencyGate,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  stream(request: ChatRequest): Observable<ChatStreamMessage> {
    const generation = {
      messages: request.messages,
      maxTokens: request.max_tokens ?? LLM_LIMITS.maxTokens.default,
      temperature: request.temperature ?? LLM_LIMITS.temperature.default,
    };
    return engineRequest<ChatStreamMessage>({
      operation: 'chat',
      model: this.model,
      gate: this.gate,
      metrics: this.metrics,
      run: async (emit, signal) => {
        const result = await this.engine.generate(generation, (text) => emit({ type: 'chunk', text }), signal);
        return [
          {
            type: 'done',
            stop_reason: result.stopReason,
            prompt_tokens: result.promptTokens,
            completion_tokens: result.completionTokens,
            model: this.engine.modelName,
            replica: this.model.replica,
          },
        ];
      },
    });
  }
}
