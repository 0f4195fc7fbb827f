import { Logger } from '@nestjs/common';
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type GbnfJsonObjectSchema,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import type { ChatMessage, ResponseFormat, StopReason } from '@parley/contracts';
import type { GenerationRequest, GenerationResult, LlmEngine } from './llm-engine.port.js';

export interface NodeLlamaCppConfig {
  modelPath: string;
  /** Parallel generations: one context sequence each. */
  sequences: number;
  threads: number;
  contextSize: number;
  gpu: false | 'auto';
}

const STOP_REASONS: Record<string, StopReason> = {
  eogToken: 'eog',
  maxTokens: 'max_tokens',
  abort: 'cancelled',
  stopGenerationTrigger: 'stop_trigger',
  customStopTrigger: 'stop_trigger',
  functionCalls: 'stop_trigger',
};

/** Grammars kept per schema; callers reuse a handful of schemas, and building one costs a few ms. */
const MAX_CACHED_GRAMMARS = 64;

/** The LLM engine on node-llama-cpp: one model and one context with N sequences, resident. */
export class NodeLlamaCppEngine implements LlmEngine {
  private readonly logger = new Logger('node-llama-cpp');
  private llama?: Llama;
  private model?: LlamaModel;
  private context?: LlamaContext;
  private chatWrapper?: ChatWrapper;
  /**
   * Sequences made once at load and reused: disposing one and asking the context for a new one
   * right away can fail with "No sequences left" (the slot is reclaimed asynchronously).
   */
  private readonly freeSequences: LlamaContextSequence[] = [];
  /** By the schema's canonical JSON, least recently used first. */
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly config: NodeLlamaCppConfig) {}

  get modelName(): string {
    return basename(this.config.modelPath);
  }

  async load(): Promise<void> {
    if (!existsSync(this.config.modelPath)) {
      throw new Error(`model file not found: ${this.config.modelPath} (run \`npm run models -- pull llm\`)`);
    }
    const llama = (this.llama = await getLlama({
      gpu: this.config.gpu,
      // Never compile or download at run time: the prebuilt binary ships in the npm package.
      build: 'never',
      maxThreads: this.config.threads,
      logLevel: LlamaLogLevel.warn,
      // node-llama-cpp's load errors are bare ("Failed to load model"): the reason is only logged.
      logger: (level, message) => {
        const text = message.trim();
        if (text) this.logger.warn(`[llama.cpp ${level}] ${text}`);
      },
    }));
    this.model = await llama.loadModel({ modelPath: this.config.modelPath });
    this.context = await this.model.createContext({
      sequences: this.config.sequences,
      threads: this.config.threads,
      contextSize: Math.min(this.config.contextSize, this.model.trainContextSize),
    });
    for (let i = 0; i < this.config.sequences; i++) this.freeSequences.push(this.context.getSequence());
    // Resolving the chat template takes ~300 ms: do it once, not per session.
    this.chatWrapper = resolveChatWrapper(this.model);
    this.logger.log(
      `${this.modelName}: ${this.config.sequences} sequences, ${this.config.threads} threads, ` +
        `context ${this.context.contextSize}, chat wrapper ${this.chatWrapper.wrapperName}`,
    );
  }

  async generate(
    request: GenerationRequest,
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    if (!this.context || !this.chatWrapper) throw new Error('model not loaded');
    // The caller (a concurrency gate) guarantees a free sequence.
    const sequence = this.freeSequences.pop();
    if (!sequence) throw new Error('no free context sequence (more parallel requests than LLM_SEQUENCES)');
    const session = new LlamaChatSession({
      contextSequence: sequence,
      chatWrapper: this.chatWrapper,
      autoDisposeSequence: false,
    });
    try {
      const grammar = request.responseFormat ? await this.grammarFor(request.responseFormat) : undefined;
      const history = request.messages.slice(0, -1);
      const prompt = request.messages.at(-1)!.content;
      session.setChatHistory(toChatHistory(history));
      const tokensBefore = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
      const result = await session.promptWithMeta(prompt, {
        maxTokens: request.maxTokens,
        temperature: request.temperature,
        grammar,
        topP: request.topP,
        seed: request.seed,
        customStopTriggers: request.stop,
        signal,
        stopOnAbortSignal: true,
        onTextChunk: (text) => {
          if (text) onText(text);
        },
      });
      return {
        stopReason: signal.aborted ? 'cancelled' : (STOP_REASONS[result.stopReason] ?? 'stop_trigger'),
        promptTokens: sequence.tokenMeter.usedInputTokens - tokensBefore.input,
        completionTokens: sequence.tokenMeter.usedOutputTokens - tokensBefore.output,
      };
    } finally {
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
      this.freeSequences.push(sequence);
    }
  }

  /** The grammar that keeps every generated token inside `format` (built once per schema). */
  private grammarFor(format: ResponseFormat): Promise<LlamaGrammar> {
    const schema = (
      format.type === 'json_schema' ? format.schema : { type: 'object', additionalProperties: true }
    ) as GbnfJsonObjectSchema;
    const key = canonicalJson(schema);
    let grammar = this.grammars.get(key);
    if (grammar) {
      this.grammars.delete(key);
    } else {
      grammar = this.llama!.createGrammarForJsonSchema(schema);
      grammar.catch(() => this.grammars.delete(key));
      if (this.grammars.size >= MAX_CACHED_GRAMMARS) this.grammars.delete(this.grammars.keys().next().value!);
    }
    this.grammars.set(key, grammar);
    return grammar;
  }
}

/** JSON with object keys sorted, so that one schema written in two key orders is one cache entry. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => {
    if (message.role === 'system') return { type: 'system', text: message.content };
    if (message.role === 'user') return { type: 'user', text: message.content };
    return { type: 'model', response: [message.content] };
  });
}
