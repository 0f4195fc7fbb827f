import { Controller, Get, Inject } from '@nestjs/common';
import type { z } from 'zod';
import type { openAiModelListSchema } from '@parley/contracts';
import { ServiceHealthClient } from '../services/service-health.client.js';
import { TtsVoicesClient } from '../voices/tts-voices.client.js';

type ModelList = z.infer<typeof openAiModelListSchema>;

/** When this gateway started: the `created` of every model it lists (the services do not say when they loaded). */
const STARTED = Math.floor(Date.now() / 1000);

/** GET /v1/models: the loaded model of each role, and each loaded voice. */
@Controller('v1')
export class ModelsHttpController {
  constructor(
    @Inject(ServiceHealthClient) private readonly health: ServiceHealthClient,
    @Inject(TtsVoicesClient) private readonly voices: TtsVoicesClient,
  ) {}

  @Get('models')
  async list(): Promise<ModelList> {
    const [healths, voices] = await Promise.all([this.health.healths(), this.voices.residentVoices()]);
    const model = (id: string, role: 'llm' | 'stt' | 'tts') => ({
      id,
      object: 'model' as const,
      created: STARTED,
      owned_by: 'parley',
      parley_role: role,
    });
    const loaded = (role: 'llm' | 'stt') => {
      const health = healths[role];
      return health?.status === 'loaded' && health.model ? [model(health.model, role)] : [];
    };
    return {
      object: 'list',
      data: [...loaded('llm'), ...loaded('stt'), ...(voices?.voices ?? []).map((voice) => model(voice.id, 'tts'))],
    };
  }
}
