import { z } from 'zod';
import { responseFormatSchema } from './json-schema.js';

/** Limits on what a caller may ask of the LLM service. */
export const LLM_LIMITS = {
  maxMessages: 64,
  maxMessageChars: 8000,
  maxTokens: { min: 1, max: 2048, default: 256 },
  temperature: { min: 0, max: 2, default: 0.7 },
} as const;

export const requestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 characters of A-Z, a-z, 0-9, _ or -');

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(LLM_LIMITS.maxMessageChars),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatRequestSchema = z.object({
  request_id: requestIdSchema,
  messages: z
    .array(chatMessageSchema)
    .min(1)
    .max(LLM_LIMITS.maxMessages)
    .refine((messages) => messages.at(-1)?.role === 'user', 'the last message must be from the user'),
  max_tokens: z.number().int().min(LLM_LIMITS.maxTokens.min).max(LLM_LIMITS.maxTokens.max).optional(),
  temperature: z.number().min(LLM_LIMITS.temperature.min).max(LLM_LIMITS.temperature.max).optional(),
  /** Constrains the answer to JSON (any object, or one matching a schema); free text without it. */
  response_format: responseFormatSchema.optional(),
  /** Nucleus sampling: only the likeliest tokens whose probabilities add up to top_p (0-1]. */
  top_p: z.number().gt(0).max(1).optional(),
  /** Same seed, same request, same model: the same answer (at temperature > 0). */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  /** Generation stops before the first of these; the answer does not contain it (stop_reason `stop_trigger`). */
  stop: z.array(z.string().min(1).max(64)).max(4).optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const stopReasonSchema = z.enum(['eog', 'max_tokens', 'cancelled', 'stop_trigger']);
export type StopReason = z.infer<typeof stopReasonSchema>;

/** What the chat stream carries: text chunks in order, then exactly one `done`. */
export const chatStreamMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chunk'), text: z.string() }),
  z.object({
    type: z.literal('done'),
    stop_reason: stopReasonSchema,
    prompt_tokens: z.number().int().nonnegative(),
    completion_tokens: z.number().int().nonnegative(),
    model: z.string(),
    /** Which replica generated the stream (host:pid), for logs and tests. */
    replica: z.string(),
    /**
     * With `response_format`: the parsed answer, present exactly when the JSON is complete and
     * matches the schema. `stop_reason: "max_tokens"` without `value` means the JSON was cut by
     * the token limit; it is never passed on as valid.
     */
    value: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type ChatStreamMessage = z.infer<typeof chatStreamMessageSchema>;
export type ChatDone = Extract<ChatStreamMessage, { type: 'done' }>;
