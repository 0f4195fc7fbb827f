import type { ChatMessage, ChatStreamMessage } from '@parley/contracts';
import type { Observable } from 'rxjs';

/** What an OpenAI chat completion may ask of the model, beyond the messages. */
export interface CompletionOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Generation stops before the first of these (not included in the answer). */
  stop?: string[];
  /** JSON answers through the llm-service's schema-constrained generation. */
  responseFormat?: { type: 'json_object' } | { type: 'json_schema'; schema: Record<string, unknown> };
}

/**
 * Raw chat over the llm-service (no tutor prompt, no session): text chunks, then one `done`.
 * Unsubscribing cancels the generation.
 */
export interface ChatModel {
  complete(messages: ChatMessage[], options: CompletionOptions): Observable<ChatStreamMessage>;
}

export const CHAT_MODEL = Symbol('CHAT_MODEL');
