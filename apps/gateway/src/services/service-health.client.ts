import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  SERVICE_NAMES,
  serviceHealthSchema,
  SUBJECTS,
  type ModelsHealthResponse,
  type ServiceHealth,
  type ServiceName,
} from '@parley/contracts';
import { firstValueFrom, timeout } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT } from './nats-client.js';

/** Asks each model service for its health over the broker, never waiting longer than a short timeout. */
@Injectable()
export class ServiceHealthClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async modelStatuses(): Promise<ModelsHealthResponse['models']> {
    const healths = await this.healths();
    // No replica answered in time (or none runs): the service is unavailable, not "not loaded".
    return Object.fromEntries(
      SERVICE_NAMES.map((service) => [service, healths[service]?.status ?? 'unavailable']),
    ) as ModelsHealthResponse['models'];
  }

  /** Each service's health as one replica reports it (its model's name too); undefined when none answered. */
  async healths(): Promise<Record<ServiceName, ServiceHealth | undefined>> {
    const healths = await Promise.all(SERVICE_NAMES.map((service) => this.health(service)));
    return Object.fromEntries(SERVICE_NAMES.map((service, i) => [service, healths[i]])) as Record<
      ServiceName,
      ServiceHealth | undefined
    >;
  }

  private async health(service: ServiceName): Promise<ServiceHealth | undefined> {
    try {
      const reply = await firstValueFrom(
        this.client.send(SUBJECTS[service].health, {}).pipe(timeout(this.config.healthTimeoutMs)),
      );
      return serviceHealthSchema.parse(reply);
    } catch {
      return undefined;
    }
  }
}
