import { Inject, Injectable, Optional } from '@nestjs/common';
import { LLM_LIMITS, ParleyError, type ChatRequest, type ChatStreamMessage } from '@parley/contracts';
import { ConcurrencyGate, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { Observable } from 'rxjs';
import { LLM_ENGINE, type LlmEngine } from '../engine/llm-engine.port.js';
import { ChunkStamps, NO_CHUNK_STAMPS } from './chunk-stamps.js';

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
    @Optional() @Inject(ChunkStamps) private readonly stamps: ChunkStamps = NO_CHUNK_STAMPS,
  ) {}

  stream(request: ChatRequest): Observable<ChatStreamMessage> {
    return new Observable<ChatStreamMessage>((subscriber) => {
      try {
        this.model.requireLoaded();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const abort = new AbortController();
      const endRequest = this.metrics.startRequest('chat');
      let abortedAtMs: number | undefined;
      // The request ends when the engine has really stopped, not when the cancel arrived.
      const endAfterCancel = () => {
        if (abortedAtMs !== undefined) this.metrics.observeCancelToStop('chat', performance.now() - abortedAtMs);
        endRequest('cancelled');
      };
      const generation = {
        messages: request.messages,
        maxTokens: request.max_tokens ?? LLM_LIMITS.maxTokens.default,
        temperature: request.temperature ?? LLM_LIMITS.temperature.default,
      };
      const stamped = this.stamps.begin(request);
      const onText = (text: string) => stamped(() => subscriber.next({ type: 'chunk', text }));
      this.gate
        .run(() => this.engine.generate(generation, onText, abort.signal), abort.signal)
        .then((result) => {
          if (result.stopReason === 'cancelled') endAfterCancel();
          else endRequest('ok');
          subscriber.next({
            type: 'done',
            stop_reason: result.stopReason,
            prompt_tokens: result.promptTokens,
            completion_tokens: result.completionTokens,
            model: this.engine.modelName,
            replica: this.model.replica,
          });
          subscriber.complete();
        })
        .catch((error: unknown) => {
          const failure = ParleyError.from(error, 'ENGINE_FAILED');
          if (abort.signal.aborted) endAfterCancel();
          else endRequest(failure.code);
          subscriber.error(failure);
        });
      return () => {
        // Runs on completion too (then it changes nothing); a generation under way is cut short.
        if (abort.signal.aborted) return;
        abortedAtMs = performance.now();
        abort.abort();
      };
    });
  }
}
