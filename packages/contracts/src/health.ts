import { z } from 'zod';
import type { LanguageCode, LanguageInfo, ScenarioId } from './catalog.js';
import { SERVICE_NAMES, type ServiceName } from './services.js';

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
export interface GatewayHealthResponse {
  status: 'healthy';
  message: string;
}

/** GET /api/health/models and /api/health/ready (503 unless every model is loaded). */
export interface ModelsHealthResponse {
  status: 'ok' | 'degraded';
  models: Record<ServiceName, ReportedModelStatus>;
}

/** GET /api/health/languages */
export interface LanguagesResponse {
  languages: Record<LanguageCode, LanguageInfo>;
  count: number;
}

/** GET /api/health/scenarios */
export interface ScenariosResponse {
  scenarios: Record<ScenarioId, string>;
  count: number;
}
