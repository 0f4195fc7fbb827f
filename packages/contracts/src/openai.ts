import { z } from 'zod';
import { languageField } from './http.js';
import { LLM_LIMITS } from './llm.js';
import { TTS_LIMITS } from './tts.js';

/**
 * The request bodies of the OpenAI-compatible routes (`/v1/*`), as OpenAI's clients send them.
 * Fields OpenAI defines that Parley does not implement are refused by name with a 400 (never
 * silently ignored); unknown fields are ignored, as OpenAI's SDKs add new ones over time.
 */

const textPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const openAiChatMessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  /** A string, or text parts (joined); images and audio parts are not supported. */
  content: z.union([z.string(), z.array(textPartSchema)]),
  name: z.string().optional(),
});

const tokenCount = z.number().int().min(LLM_LIMITS.maxTokens.min).max(LLM_LIMITS.maxTokens.max);

/** `response_format`: free text (default), any JSON object, or JSON matching a schema. */
export const openAiResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/** Body of POST /v1/chat/completions. */
export const chatCompletionRequestSchema = z.object({
  /** Any name is accepted; the answer names the model that really answered. */
  model: z.string().max(256),
  messages: z.array(openAiChatMessageSchema).min(1).max(LLM_LIMITS.maxMessages),
  max_tokens: tokenCount.nullable().optional(),
  max_completion_tokens: tokenCount.nullable().optional(),
  temperature: z.number().min(LLM_LIMITS.temperature.min).max(LLM_LIMITS.temperature.max).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  stop: z
    .union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(4)])
    .nullable()
    .optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullable()
    .optional(),
  n: z.literal(1, { error: 'only n=1 is supported' }).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  response_format: openAiResponseFormatSchema.optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** Multipart fields of POST /v1/audio/transcriptions (the recording is the `file` field). */
export const audioTranscriptionRequestSchema = z.object({
  model: z.string().max(256),
  /** ISO-639-1, one of the catalog's languages; absent: detected. */
  language: languageField.optional(),
  prompt: z.string().max(1000).optional(),
  response_format: z.enum(['json', 'text', 'srt', 'verbose_json', 'vtt']).default('json'),
  temperature: z.coerce.number().min(0).max(1).optional(),
  /** `timestamp_granularities[]` as multipart sends it; `segment` only (word timestamps are not produced). */
  'timestamp_granularities[]': z.union([z.enum(['segment', 'word']), z.array(z.enum(['segment', 'word']))]).optional(),
});
export type AudioTranscriptionRequest = z.infer<typeof audioTranscriptionRequestSchema>;

/** Body of POST /v1/audio/speech. */
export const audioSpeechRequestSchema = z.object({
  model: z.string().max(256),
  input: z.string().min(1).max(TTS_LIMITS.maxTextChars),
  /** A resident voice id, or one of OpenAI's names (alloy, ...), which mean the language's default voice. */
  voice: z.string().max(100),
  /** mp3 by default, as OpenAI's (its clients save the answer as speech.mp3 when they name no format). */
  response_format: z.enum(['wav', 'pcm', 'mp3', 'opus', 'aac', 'flac']).default('mp3'),
  speed: z.number().min(TTS_LIMITS.speed.min).max(TTS_LIMITS.speed.max).default(1),
  /** Parley extension: the language of `input` (picks the voice when `voice` is an OpenAI name); default `en`. */
  language: languageField.default('en'),
  instructions: z.string().optional(),
});
export type AudioSpeechRequest = z.infer<typeof audioSpeechRequestSchema>;

/** OpenAI's voice names: Parley speaks them with the default voice of the request's language. */
export const OPENAI_VOICE_NAMES = [
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'fable',
  'nova',
  'onyx',
  'sage',
  'shimmer',
  'verse',
  'marin',
  'cedar',
] as const;
