import { z } from 'zod';
import type { JsonObjectSchema } from './json-schema.js';

/**
 * Bounds of a `feedback` event. Every string and list is bounded so that a grammar-constrained
 * generation always ends within its token budget (see json-schema.ts), and so a client can lay
 * the event out without surprises.
 */
export const FEEDBACK_LIMITS = {
  maxCorrections: 3,
  /** `original` and `corrected`: the learner's phrase and its fixed form. */
  phraseChars: 120,
  explanationChars: 160,
  translationChars: 400,
  maxVocabulary: 6,
  wordChars: 40,
  wordTranslationChars: 60,
} as const;

export const feedbackCorrectionSchema = z.object({
  original: z.string().min(1).max(FEEDBACK_LIMITS.phraseChars),
  corrected: z.string().min(1).max(FEEDBACK_LIMITS.phraseChars),
  /** One line, in the learner's native language. */
  explanation: z.string().max(FEEDBACK_LIMITS.explanationChars),
});
export type FeedbackCorrection = z.infer<typeof feedbackCorrectionSchema>;

export const feedbackWordSchema = z.object({
  word: z.string().min(1).max(FEEDBACK_LIMITS.wordChars),
  translation: z.string().max(FEEDBACK_LIMITS.wordTranslationChars),
});
export type FeedbackWord = z.infer<typeof feedbackWordSchema>;

/** The `feedback` turn event (../shared/API.md): corrections, the answer translated, its new words. */
export const feedbackSchema = z.object({
  /** Empty when there was nothing to correct. */
  corrections: z.array(feedbackCorrectionSchema).max(FEEDBACK_LIMITS.maxCorrections),
  /** The tutor's answer in the learner's native language. */
  translation: z.string().max(FEEDBACK_LIMITS.translationChars),
  vocabulary: z.array(feedbackWordSchema).max(FEEDBACK_LIMITS.maxVocabulary),
});
export type Feedback = z.infer<typeof feedbackSchema>;

/**
 * The same shape as a JSON schema, for the LLM's grammar: derived from the zod schema so the two
 * cannot drift (the tests check that the chat request accepts it).
 */
export const FEEDBACK_JSON_SCHEMA: JsonObjectSchema = (() => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(feedbackSchema) as Record<string, unknown>;
  return schema as JsonObjectSchema;
})();
