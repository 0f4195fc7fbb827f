import type { ChatMessage, ResponseFormat, StopReason } from '@parley/contracts';

export interface GenerationRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  /** Constrain the output to JSON (a grammar): every token keeps it a prefix of a valid answer. */
  responseFormat?: ResponseFormat;
  topP?: number;
  seed?: number;
  /** Stop before the first of these (not emitted). */
  stop?: string[];
}

export interface GenerationResult {
  stopReason: StopReason;
  promptTokens: number;
  completionTokens: number;
}

/** What the chat use case needs from a language model. */
export interface LlmEngine {
  readonly modelName: string;
  /** Loads the model; called once per process. */
  load(): Promise<void>;
  /**
   * Generates a reply to `messages`, calling `onText` with each piece of text as it is produced.
   * Aborting `signal` stops generation and resolves with stop reason `cancelled`.
   */
  generate(request: GenerationRequest, onText: (text: string) => void, signal: AbortSignal): Promise<GenerationResult>;
}

export const LLM_ENGINE = Symbol('LLM_ENGINE');
