import { z } from 'zod';
import { requestIdSchema } from './llm.js';

export const transcribeRequestSchema = z.object({
  request_id: requestIdSchema,
  /** Name of the uploaded file's object in AUDIO_BUCKET (buckets.ts) (the raw bytes, any supported container). */
  audio_object: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  /** A catalog language code as a hint, or `auto` to detect. */
  language: z.string().regex(/^(auto|[a-z]{2,3})$/).default('auto'),
  /**
   * With `auto`: the languages the speaker may be using (a learner's target and native language);
   * the transcript is in the likeliest of them, whatever else the recogniser detects.
   */
  candidate_languages: z.array(z.string().regex(/^[a-z]{2,3}$/)).min(1).max(5).optional(),
});
export type TranscribeRequest = z.input<typeof transcribeRequestSchema>;

export const transcriptSegmentSchema = z.object({ start: z.number(), end: z.number(), text: z.string() });
export type TranscriptSegment = z.infer<typeof transcriptSegmentSchema>;

export const transcriptionSchema = z.object({
  text: z.string(),
  language: z.string(),
  language_probability: z.number().min(0).max(1).nullable(),
  segments: z.array(transcriptSegmentSchema),
  duration_ms: z.number().nonnegative(),
  replica: z.string(),
});
export type Transcription = z.infer<typeof transcriptionSchema>;
