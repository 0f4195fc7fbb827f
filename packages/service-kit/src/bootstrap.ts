import 'reflect-metadata';
import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { queueGroup, type ServiceName } from '@parley/contracts';
import { BinaryAwareNatsSerializer } from './binary-transport.js';
import { logLevels } from './logging.js';
import { NATS_RECONNECT, natsUrl } from './nats.js';

export interface ServiceBootstrapOptions {
  service: ServiceName;
  module: Type<unknown> | DynamicModule;
  /** HTTP port for /metrics (and probes). 0 picks a free port. */
  httpPort: number;
  /** Replies carry raw bytes (audio): send Uint8Array fields as binary frames, not JSON arrays. */
  binaryReplies?: boolean;
}

/**
 * Starts a Parley service: a NestJS microservice on NATS in its service's queue group (so N
 * replicas share the requests), plus a small HTTP listener for Prometheus.
 */
export async function bootstrapService(options: ServiceBootstrapOptions): Promise<INestApplication> {
  const logger = new Logger(`${options.service}-service`);
  const app = await NestFactory.create(options.module, { logger: logLevels() });
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.NATS,
      options: {
        servers: natsUrl(),
        ...NATS_RECONNECT,
        queue: queueGroup(options.service),
        name: `${options.service}-service`,
        ...(options.binaryReplies ? { serializer: new BinaryAwareNatsSerializer() } : {}),
      },
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(options.httpPort, '0.0.0.0');
  logger.log(
    `listening on NATS ${natsUrl()} (queue ${queueGroup(options.service)}), metrics on ${await app.getUrl()}/metrics`,
  );
  return app;
}
