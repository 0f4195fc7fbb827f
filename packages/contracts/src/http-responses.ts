import { z } from 'zod';
import { learnerWordSchema } from './learners.js';
import { feedbackSchema } from './feedback.js';
import { transcriptSegmentSchema } from './stt.js';

/**
 * The answers of the HTTP API as schemas, for the OpenAPI document (`/api/openapi.json`); the
 * request bodies are the schemas the gateway validates with (http.ts, openai.ts).
 */

const reportedStatusSchema = z.enum(['loading', 'loaded', 'not_loaded', 'error', 'unavailable']);

export const gatewayHealthResponseSchema = z.object({
  status: z.literal('healthy'),
  message: z.string(),
  /** Parley extension: the system runs on the tiny generated demo models (answers are nonsense). */
  demo: z.boolean(),
});
export const modelsHealthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  models: z.object({ stt: reportedStatusSchema, llm: reportedStatusSchema, tts: reportedStatusSchema }),
});
export const languagesResponseSchema = z.object({
  languages: z.record(z.string(), z.object({ name: z.string(), tts_voices: z.array(z.string()) })),
  count: z.number().int(),
});
export const scenariosResponseSchema = z.object({
  scenarios: z.record(z.string(), z.string()),
  count: z.number().int(),
});

/** What a blocking turn route adds when the turn asked for feedback: the feedback, or why there is none. */
const turnFeedbackFields = { feedback: feedbackSchema.optional(), feedback_error: z.string().optional() };

export const textTurnResponseSchema = z.object({
  response: z.string(),
  language: z.string(),
  session_id: z.string(),
  ...turnFeedbackFields,
});
export const speakTurnResponseSchema = z.object({
  ...turnFeedbackFields,
  response: z.string(),
  language: z.string(),
  detected_language: z.string().nullable(),
  transcribed_text: z.string(),
  session_id: z.string(),
});
export const transcribeHttpResponseSchema = z.object({
  text: z.string(),
  language: z.string(),
  language_probability: z.number().nullable(),
  segments: z.array(transcriptSegmentSchema),
});
export const sessionResponseSchema = z.object({
  session_id: z.string(),
  messages: z.array(
    z.object({ role: z.enum(['user', 'assistant']), content: z.string(), language: z.string().optional() }),
  ),
  count: z.number().int(),
});
export const clearSessionResponseSchema = z.object({ status: z.literal('cleared'), session_id: z.string() });

/** Every 4xx/5xx outside `/v1` (NestJS's shape, plus Parley's machine code). */
export const httpErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  code: z.string().optional(),
});

/** Every 4xx/5xx under `/v1` (OpenAI's shape). */
export const openAiErrorResponseSchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});

export const openAiModelListSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      id: z.string(),
      object: z.literal('model'),
      created: z.number().int(),
      owned_by: z.string(),
      /** Parley extension: what the model does. */
      parley_role: z.enum(['llm', 'stt', 'tts']),
    }),
  ),
});

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export const chatCompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      finish_reason: z.enum(['stop', 'length']),
      logprobs: z.null(),
    }),
  ),
  usage: usageSchema,
});

/** One `data:` line of a streamed chat completion (the stream ends with `data: [DONE]`). */
export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      finish_reason: z.enum(['stop', 'length']).nullable(),
      logprobs: z.null(),
    }),
  ),
  usage: usageSchema.optional(),
});

export const audioTranscriptionJsonSchema = z.object({ text: z.string() });
export const audioTranscriptionVerboseSchema = z.object({
  task: z.literal('transcribe'),
  language: z.string(),
  duration: z.number(),
  text: z.string(),
  segments: z.array(z.object({ id: z.number().int(), start: z.number(), end: z.number(), text: z.string() })),
});

/** GET /api/learners/{id}/vocabulary (format=json). */
export const learnerVocabularyResponseSchema = z.object({
  learner_id: z.string(),
  language: z.string().optional(),
  vocabulary: z.array(learnerWordSchema),
  count: z.number().int(),
});
/** DELETE /api/learners/{id} */
export const clearLearnerResponseSchema = z.object({ status: z.literal('cleared'), learner_id: z.string() });

/** GET /healthz (liveness of any Parley process). */
export const livenessResponseSchema = z.object({ status: z.literal('alive') });
/** GET /readyz: 200 when the broker answers (and, in a model service, the model is loaded), else 503; 503 with `draining` while shutting down. */
export const readinessResponseSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  broker: z.enum(['connected', 'unreachable']),
  model: z.string().optional(),
  draining: z.boolean().optional(),
});
