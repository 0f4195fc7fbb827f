import { Inject, Injectable } from '@nestjs/common';
import { ParleyError, type ChatCompletionRequest, type ChatMessage } from '@parley/contracts';
import { filter, map, type Observable } from 'rxjs';
import { CHAT_MODEL, type ChatModel, type CompletionOptions } from './chat-model.port.js';

export type FinishReason = 'stop' | 'length';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What a completion emits: text as it is generated, then exactly one `done`. */
export type CompletionEvent =
  { type: 'delta'; text: string } | { type: 'done'; finishReason: FinishReason; usage: CompletionUsage };

/** OpenAI's messages as the llm-service's: developer is system, text parts joined. */
export function toChatMessages(messages: ChatCompletionRequest['messages']): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join(''),
  }));
}

export function completionOptions(request: ChatCompletionRequest): CompletionOptions {
  const format = request.response_format?.type ?? 'text';
  if (format !== 'text') {
    // Refused rather than answered with free text that the caller would fail to parse.
    throw new ParleyError(
      'INVALID_REQUEST',
      `response_format ${format} is not supported by this server yet: the llm-service has no schema-constrained generation; ask for text`,
    );
  }
  return {
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    temperature: request.temperature ?? undefined,
    topP: request.top_p ?? undefined,
    seed: request.seed ?? undefined,
    stop: request.stop == null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop,
  };
}

/**
 * An OpenAI chat completion over the llm-service: the messages as given (no tutor prompt, no
 * session), the llm's stop reason as OpenAI's `finish_reason`, its token counts as `usage`.
 * Unsubscribing cancels the generation.
 */
@Injectable()
export class ChatCompletionsUseCase {
  constructor(@Inject(CHAT_MODEL) private readonly model: ChatModel) {}

  complete(request: ChatCompletionRequest): Observable<CompletionEvent> {
    return this.model.complete(toChatMessages(request.messages), completionOptions(request)).pipe(
      filter((message) => message.type === 'done' || message.text.length > 0),
      map((message): CompletionEvent => {
        if (message.type === 'chunk') return { type: 'delta', text: message.text };
        return {
          type: 'done',
          finishReason: message.stop_reason === 'max_tokens' ? 'length' : 'stop',
          usage: {
            prompt_tokens: message.prompt_tokens,
            completion_tokens: message.completion_tokens,
            total_tokens: message.prompt_tokens + message.completion_tokens,
          },
        };
      }),
    );
  }
}
