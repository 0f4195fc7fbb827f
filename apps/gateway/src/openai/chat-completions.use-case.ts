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

/** OpenAI's `response_format` as the llm-service's (undefined: free text). */
function responseFormat(format: ChatCompletionRequest['response_format']): CompletionOptions['responseFormat'] {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (!format.json_schema.schema) throw new ParleyError('INVALID_REQUEST', 'response_format.json_schema.schema is required: the JSON schema the answer must match');
  return { type: 'json_schema', schema: format.json_schema.schema };
}

export function completionOptions(request: ChatCompletionRequest): CompletionOptions {
  return {
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    temperature: request.temperature ?? undefined,
    topP: request.top_p ?? undefined,
    seed: request.seed ?? undefined,
    stop: request.stop == null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop,
    responseFormat: responseFormat(request.response_format),
  };
}

/**
 * An OpenAI chat completion over the llm-service: the messages as given (no tutor prompt, no
 * session), the llm's stop reason as OpenAI's `finish_reason` (`length` also when a JSON answer was
 * cut by the token limit), its token counts as `usage`.
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
