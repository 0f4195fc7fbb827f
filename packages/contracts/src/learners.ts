import { z } from 'zod';
import { FEEDBACK_LIMITS } from './feedback.js';
import { languageField, learnerIdSchema } from './http.js';

/** What is kept per learner: bounded, so one learner's record stays one small KV value. */
export const LEARNER_LIMITS = {
  /** Distinct words kept (all languages); beyond, the least recently seen are dropped. */
  maxVocabulary: 2000,
  /** Corrections kept, newest first. */
  recentCorrections: 50,
} as const;

export const learnerWordSchema = z.object({
  word: z.string().max(FEEDBACK_LIMITS.wordChars),
  translation: z.string().max(FEEDBACK_LIMITS.wordTranslationChars),
  language: z.string(),
  times_seen: z.number().int().positive(),
  /** ISO 8601 timestamps. */
  first_seen: z.string(),
  last_seen: z.string(),
});
export type LearnerWord = z.infer<typeof learnerWordSchema>;

export const learnerCorrectionSchema = z.object({
  original: z.string(),
  corrected: z.string(),
  explanation: z.string(),
  language: z.string(),
  at: z.string(),
});
export type LearnerCorrection = z.infer<typeof learnerCorrectionSchema>;

export const languageProgressSchema = z.object({
  turns: z.number().int().nonnegative(),
  /** Distinct words seen in this language. */
  words: z.number().int().nonnegative(),
  corrections: z.number().int().nonnegative(),
});
export type LanguageProgress = z.infer<typeof languageProgressSchema>;

/** GET /api/learners/{id}; also what is stored per learner. */
export const learnerProgressSchema = z.object({
  learner_id: learnerIdSchema,
  languages: z.record(z.string(), languageProgressSchema),
  /** Most recently seen first. */
  vocabulary: z.array(learnerWordSchema),
  recent_corrections: z.array(learnerCorrectionSchema),
});
export type LearnerProgress = z.infer<typeof learnerProgressSchema>;

/** Query of GET /api/learners/{id}/vocabulary. */
export const learnerVocabularyQuerySchema = z.object({
  language: languageField.optional(),
  format: z.enum(['json', 'csv'], { error: "must be 'json' or 'csv'" }).default('json'),
});
export type LearnerVocabularyQuery = z.infer<typeof learnerVocabularyQuerySchema>;
