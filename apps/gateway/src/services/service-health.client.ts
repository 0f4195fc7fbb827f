import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { serviceHealthSchema, SUBJECTS, type ReportedModelStatus, type ServiceName } from '@parley/contracts';
import { firstValueFrom, timeout } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT } from './nats-client.js';

const SERVICES: ServiceName[] = ['stt', 'llm', 'tts'];

/** Asks each model service for its health over the broker, never waiting longer than a short timeout. */
@Injectable()
export class ServiceHealthClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async modelStatuses(): Promise<Record<ServiceName, ReportedModelStatus>> {
    const statuses = await Promise.all(SERVICES.map((service) => this.status(service)));
    return Object.fromEntries(SERVICES.map((service, i) => [service, statuses[i]])) as Record<ServiceName, ReportedModelStatus>;
  }

  private async status(service: ServiceName): Promise<ReportedModelStatus> {
    try {
      const reply = await firstValueFrom(
        this.client.send(SUBJECTS[service].health, {}).pipe(timeout(this.config.healthTimeoutMs)),
      );
      return serviceHealthSchema.parse(reply).status;
    } catch {
      // No replica answered in time (or none runs): the service is unavailable, not "not loaded".
      return 'unavailable';
    }
  }
}
