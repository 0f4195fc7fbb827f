import { pulledModelPath } from '@parley/models';
import { envInt, usableCpuCount } from '@parley/service-kit';
import type { NodeLlamaCppConfig } from './engine/node-llama-cpp.engine.js';

export interface LlmServiceConfig {
  engine: NodeLlamaCppConfig;
  /** Requests allowed to wait for a free sequence before new ones are refused as busy. */
  maxQueued: number;
  /** Hard ceiling on one generation, in case a caller's cancel is lost. */
  maxRequestMs: number;
  httpPort: number;
  /** Bench-only: where to publish per-chunk engine timestamps (unset: off). */
  benchStampSubject?: string;
}

export function loadConfig(): LlmServiceConfig {
  // Without LLM_MODEL_PATH, the default model pulled into the models directory.
  const modelPath = process.env.LLM_MODEL_PATH || pulledModelPath('llm', 'LLM_MODEL_PATH');
  return {
    engine: {
      modelPath,
      sequences: envInt('LLM_SEQUENCES', 2, { max: 64 }),
      threads: envInt('LLM_THREADS', usableCpuCount(), { max: 256 }),
      contextSize: envInt('LLM_CONTEXT_SIZE', 4096, { min: 256 }),
      gpu: process.env.LLM_GPU === 'auto' ? 'auto' : false,
    },
    maxQueued: envInt('LLM_MAX_QUEUED', 16, { min: 0 }),
    maxRequestMs: envInt('LLM_MAX_REQUEST_MS', 300_000),
    httpPort: envInt('LLM_HTTP_PORT', 9101, { min: 0, max: 65535 }),
    benchStampSubject: process.env.LLM_BENCH_STAMP_SUBJECT || undefined,
  };
}
