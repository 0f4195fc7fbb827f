import { z } from 'zod';

/** What a service says of its model. `unavailable` is only ever said by the gateway (no answer). */
export const modelStatusSchema = z.enum(['loading', 'loaded', 'not_loaded', 'error']);
export type ModelStatus = z.infer<typeof modelStatusSchema>;
export type ReportedModelStatus = ModelStatus | 'unavailable';

export const serviceHealthSchema = z.object({
  service: z.enum(['llm', 'stt', 'tts']),
  status: modelStatusSchema,
  model: z.string().nullable(),
  /** How many times this replica loaded its model: 1 once loaded, never more. */
  model_loads: z.number().int().nonnegative(),
  replica: z.string(),
  error: z.string().optional(),
});
export type ServiceHealth = z.infer<typeof serviceHealthSchema>;
