import { z } from 'zod';
import type {
  clearSessionResponseSchema,
  sessionResponseSchema,
  speakTurnResponseSchema,
  textTurnResponseSchema,
  transcribeHttpResponseSchema,
} from './http-responses.js';
import { DIFFICULTIES, LANGUAGE_CODES, SCENARIO_IDS } from './catalog.js';
import { speakableTextSchema } from './tts.js';

/** Limits at the HTTP edge; the gateway reads overrides from its environment. */
export const HTTP_LIMITS = {
  messageMaxChars: 2000,
  historyMaxMessages: 50,
} as const;

export const sessionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');

/** Learner ids are KV keys and appear in URLs: the same alphabet as session ids. */
export const learnerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');

const oneOf = (what: string, values: readonly string[]) =>
  z.string().refine((v) => values.includes(v), {
    error: (issue) => `unknown ${what} '${String(issue.input)}'; use one of: ${values.join(', ')}`,
  });

export const languageField = oneOf('language', LANGUAGE_CODES);
export const difficultyField = oneOf('difficulty', DIFFICULTIES);
export const scenarioField = oneOf('scenario', SCENARIO_IDS);

export const historyMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string().max(8000),
});

/**
 * The API's speech_rate: a duration scale like Piper's length_scale (1.0 normal, 1.2 is 20%
 * slower), 0.25-4. Form fields arrive as strings.
 */
export const speechRateField = z.coerce
  .number({ error: 'must be a number (1.0 is normal speed, 1.2 is 20% slower)' })
  .finite('must be a finite number')
  .min(0.25, 'must be at least 0.25')
  .max(4, 'must be at most 4');

/** A yes/no field: JSON true/false, or (form fields arrive as strings) `true`/`false`/`1`/`0`. */
export const flagField = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')], {
  error: 'must be true or false',
});

/** Turn options added by Parley to every turn route (../shared/API.md); old clients send none. */
const turnOptions = {
  /** One `feedback` event per turn (blocking routes: a `feedback` field). */
  feedback: flagField.default(false),
  /** Language of explanations and translations, and of a beginner's answers. */
  native_language: languageField.default('en'),
  /** The turn counts toward that learner's progress. */
  learner_id: learnerIdSchema.optional(),
};

/** Body of POST /api/conversation/synthesize (form or JSON). */
export const synthesizeHttpRequestSchema = z.object({
  text: speakableTextSchema,
  language: languageField.default('en'),
  voice: z.string().max(100).optional(),
  speech_rate: speechRateField.optional(),
});
export type SynthesizeHttpRequest = z.infer<typeof synthesizeHttpRequestSchema>;

/**
 * True when `text` holds a control character other than tab, newline or carriage return (C0, DEL,
 * C1): nothing a learner types, and noise to the model; usually a client's encoding bug.
 */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/**
 * The learner's typed message. U+FFFD is what a body that is not valid UTF-8 decodes to: the
 * caller sent another encoding, and the model would get a broken message.
 */
export const learnerMessageSchema = z
  .string({ error: (issue) => (issue.input === undefined ? "is required (the learner's message as text)" : "must be a string (the learner's message as text)") })
  .trim()
  .min(1, 'must not be empty')
  .max(HTTP_LIMITS.messageMaxChars, `must be at most ${HTTP_LIMITS.messageMaxChars} characters`)
  .refine((text) => !hasControlCharacters(text), 'must not contain control characters (U+0000-U+001F other than tab and line breaks, U+007F-U+009F)')
  .refine((text) => !text.includes('\uFFFD'), 'is not valid UTF-8 text (send the body as UTF-8)');

/** Body of POST /api/conversation/text and /text-stream. */
export const textTurnRequestSchema = z.object({
  message: learnerMessageSchema,
  language: languageField.default('en'),
  difficulty: difficultyField.default('beginner'),
  scenario: scenarioField.default('greeting'),
  history: z.array(historyMessageSchema).max(HTTP_LIMITS.historyMaxMessages).optional(),
  session_id: sessionIdSchema.optional(),
  /** Parley extension: also speak the answer sentence by sentence in `audio` events. */
  tts: z.boolean().optional(),
  speech_rate: speechRateField.optional(),
  voice: z.string().max(100).optional(),
  ...turnOptions,
});
export type TextTurnRequest = z.infer<typeof textTurnRequestSchema>;

/** What the gateway stores per session. */
export const storedMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  language: z.string().optional(),
});
export type StoredMessage = z.infer<typeof storedMessageSchema>;

/** Multipart fields of POST /api/conversation/speak and /speak-stream (the file is `audio`). */
export const speakRequestSchema = z.object({
  language: languageField.default('en'),
  difficulty: difficultyField.default('beginner'),
  scenario: scenarioField.default('greeting'),
  session_id: sessionIdSchema.optional(),
  speech_rate: speechRateField.optional(),
  voice: z.string().max(100).optional(),
  ...turnOptions,
});
export type SpeakRequest = z.infer<typeof speakRequestSchema>;

/** Multipart fields of POST /api/conversation/transcribe: `language` is a hint; absent or `auto` detects. */
export const transcribeHttpRequestSchema = z.object({
  language: z.union([z.literal('auto'), languageField]).default('auto'),
});

// The answers' types, from their schemas (http-responses.ts, which the OpenAPI document uses too).
/** What a blocking turn route adds when the turn asked for feedback: the feedback, or why there is none. */
export type TurnFeedbackFields = Pick<TextTurnResponse, 'feedback' | 'feedback_error'>;
/** POST /api/conversation/text */
export type TextTurnResponse = z.infer<typeof textTurnResponseSchema>;
/** POST /api/conversation/speak */
export type SpeakTurnResponse = z.infer<typeof speakTurnResponseSchema>;
/** POST /api/conversation/transcribe */
export type TranscribeHttpResponse = z.infer<typeof transcribeHttpResponseSchema>;
/** GET /api/conversation/session/{id} (an unknown session has no messages). */
export type SessionResponse = z.infer<typeof sessionResponseSchema>;
/** DELETE /api/conversation/session/{id} */
export type ClearSessionResponse = z.infer<typeof clearSessionResponseSchema>;
