import { z } from 'zod';
import { requestIdSchema } from './llm.js';

export const TTS_LIMITS = {
  /** Longer texts are refused before they reach the engine (the gateway sends sentences). */
  maxTextChars: 5000,
  /** Engine speed (the inverse of Piper's length_scale / the API's speech_rate). */
  speed: { min: 0.25, max: 4 },
} as const;

/**
 * True when the text has something a voice can say: a letter or a digit in any script. Text of
 * only punctuation, symbols, emoji, control characters or white space would come out as noise.
 */
export function hasSpeakableText(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

/** Text to synthesize: at most TTS_LIMITS.maxTextChars, with something to say in it. */
export const speakableTextSchema = z
  .string({ error: 'is required (the text to speak)' })
  .refine((text) => text.trim().length > 0, 'must not be empty or only whitespace')
  .refine((text) => text.length <= TTS_LIMITS.maxTextChars, `must be at most ${TTS_LIMITS.maxTextChars} characters`)
  .refine(
    (text) => text.trim().length === 0 || hasSpeakableText(text),
    'has nothing to speak: it needs at least one letter or digit (not only punctuation, symbols or control characters)',
  );

export const synthesizeRequestSchema = z.object({
  request_id: requestIdSchema,
  text: speakableTextSchema,
  /** A catalog language code; picks the language's voice when `voice` is not given. */
  language: z.string().min(2).max(8),
  voice: z.string().max(100).optional(),
  /** 1 is normal, 2 twice as fast. Finite, 0.25-4. */
  speed: z.number().finite().min(TTS_LIMITS.speed.min).max(TTS_LIMITS.speed.max).default(1),
  speaker_id: z.number().int().min(0).max(10_000).default(0),
});
export type SynthesizeRequest = z.input<typeof synthesizeRequestSchema>;
export type ParsedSynthesizeRequest = z.output<typeof synthesizeRequestSchema>;

/**
 * The synthesis stream: audio chunks as 16-bit little-endian mono PCM, in order, sent as raw
 * bytes in binary frames (see binary-frame), then exactly one `done`.
 */
export const synthesizeStreamMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('audio'),
    seq: z.number().int().nonnegative(),
    sample_rate: z.number().int().positive(),
    pcm: z.instanceof(Uint8Array),
  }),
  z.object({
    type: z.literal('done'),
    voice: z.string(),
    sample_rate: z.number().int().positive(),
    samples: z.number().int().nonnegative(),
    replica: z.string(),
  }),
]);
export type SynthesizeStreamMessage = z.infer<typeof synthesizeStreamMessageSchema>;

/** One resident voice, as the tts-service reports it on `SUBJECTS.tts.voices`. */
export const residentVoiceSchema = z.object({
  id: z.string(),
  /** Language codes the voice speaks (lower case, e.g. `en`, `pt-br`). */
  languages: z.array(z.string()),
  sample_rate: z.number().int().positive(),
  speakers: z.number().int().positive(),
});
export type ResidentVoice = z.infer<typeof residentVoiceSchema>;

/** Reply of `SUBJECTS.tts.voices`: the voices this replica has loaded (empty while loading). */
export const ttsVoicesReplySchema = z.object({
  voices: z.array(residentVoiceSchema),
  /** Spoken for a language that has no voice of its own. */
  default_voice: z.string(),
});
export type TtsVoicesReply = z.infer<typeof ttsVoicesReplySchema>;

/** Body of GET /api/conversation/voices: per catalog language, the voice ids it can be spoken with (loaded first). */
export const voicesHttpResponseSchema = z.object({
  voices: z.record(z.string(), z.array(z.string())),
});
export type VoicesHttpResponse = z.infer<typeof voicesHttpResponseSchema>;
