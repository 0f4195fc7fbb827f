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
}

/**
 * Raw chat over the llm-service (no tutor prompt, no session): text chunks, then one `done`.
 * Unsubscribing cancels the generation.
 */
export interface ChatModel {
  complete(messages: ChatMessage[], options: CompletionOptions): Observable<ChatStreamMessage>;
}

export const CHAT_MODEL = Symbol('CHAT_MODEL');
