import { z } from 'zod';
import type {
  gatewayHealthResponseSchema,
  modelsHealthResponseSchema,
  scenariosResponseSchema,
} from './http-responses.js';
import type { LanguageCode, LanguageInfo } from './catalog.js';
import { SERVICE_NAMES } from './services.js';

/** What a service says of its model. `unavailable` is only ever said by the gateway (no answer). */
export const modelStatusSchema = z.enum(['loading', 'loaded', 'not_loaded', 'error']);
export type ModelStatus = z.infer<typeof modelStatusSchema>;
export type ReportedModelStatus = ModelStatus | 'unavailable';

export const serviceHealthSchema = z.object({
  service: z.enum(SERVICE_NAMES),
  status: modelStatusSchema,
  model: z.string().nullable(),
  /** How many times this replica loaded its model: 1 once loaded, never more. */
  model_loads: z.number().int().nonnegative(),
  replica: z.string(),
  error: z.string().optional(),
});
export type ServiceHealth = z.infer<typeof serviceHealthSchema>;

/** GET /api/health */
export type GatewayHealthResponse = z.infer<typeof gatewayHealthResponseSchema>;

/** GET /api/health/models and /api/health/ready (503 unless every model is loaded). */
export type ModelsHealthResponse = z.infer<typeof modelsHealthResponseSchema>;

/** GET /api/health/languages */
export interface LanguagesResponse {
  languages: Record<LanguageCode, LanguageInfo>;
  count: number;
}

/** GET /api/health/scenarios */
export type ScenariosResponse = z.infer<typeof scenariosResponseSchema>;
