import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LANGUAGES, SCENARIOS, type GatewayHealthResponse, type LanguagesResponse, type ModelsHealthResponse, type ScenariosResponse } from '@parley/contracts';
import type { GatewayConfig } from '../config.js';
import { ServiceHealthClient } from '../services/service-health.client.js';
import { GatewayDrain } from '../shutdown/gateway-drain.js';
import { GATEWAY_CONFIG } from '../tokens.js';

@Controller('api/health')
export class HealthHttpController {
  constructor(
    @Inject(ServiceHealthClient) private readonly services: ServiceHealthClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GatewayDrain) private readonly drain: GatewayDrain,
  ) {}

  @Get()
  health(): GatewayHealthResponse {
    const message = this.config.demo ? 'Parley gateway is running on demo models (answers are nonsense words)' : 'Parley gateway is running';
    return { status: 'healthy', message, demo: this.config.demo };
  }

  @Get('models')
  async models(): Promise<ModelsHealthResponse> {
    const models = await this.services.modelStatuses();
    const allLoaded = Object.values(models).every((status) => status === 'loaded');
    return { status: allLoaded ? 'ok' : 'degraded', models };
  }

  /** For readiness probes: 200 only when every model is loaded and this replica is not shutting down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ModelsHealthResponse> {
    // A draining replica is unready first, so the balancer stops sending it work.
    if (this.drain.draining) {
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'degraded', models: await this.services.modelStatuses() };
    }
    const body = await this.models();
    res.status(body.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  @Get('languages')
  languages(): LanguagesResponse {
    return { languages: LANGUAGES, count: Object.keys(LANGUAGES).length };
  }

  @Get('scenarios')
  scenarios(): ScenariosResponse {
    return { scenarios: SCENARIOS, count: Object.keys(SCENARIOS).length };
  }
}
