import 'reflect-metadata';
import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { queueGroup, type ServiceName } from '@parley/contracts';
import { BinaryAwareNatsSerializer } from './binary-transport.js';
import { DrainingNatsServer } from './draining.js';
import { envInt } from './cpus.js';
import { serviceLogger } from './json-logger.js';
import { RequestContextInterceptor } from './request-context.interceptor.js';
import { NATS_RECONNECT, natsUrl } from './nats.js';

/** Fits in Kubernetes' default 30 s between SIGTERM and SIGKILL, with time left to close. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

export interface ServiceBootstrapOptions {
  service: ServiceName;
  module: Type<unknown> | DynamicModule;
  /** HTTP port for /metrics (and probes). 0 picks a free port. */
  httpPort: number;
  /** Replies carry raw bytes (audio): send Uint8Array fields as binary frames, not JSON arrays. */
  binaryReplies?: boolean;
  /** On SIGTERM, how long requests under way may take to finish (SHUTDOWN_GRACE_MS, 25 s by default). */
  shutdownGraceMs?: number;
}

/**
 * Starts a Parley service: a NestJS microservice on NATS in its service's queue group (so N
 * replicas share the requests), plus a small HTTP listener for Prometheus.
 */
export async function bootstrapService(options: ServiceBootstrapOptions): Promise<INestApplication> {
  const logger = new Logger(`${options.service}-service`);
  const app = await NestFactory.create(options.module, { logger: serviceLogger(options.service) });
  app.enableShutdownHooks();
  const natsOptions = {
    servers: natsUrl(),
    ...NATS_RECONNECT,
    queue: queueGroup(options.service),
    name: `${options.service}-service`,
    ...(options.binaryReplies ? { serializer: new BinaryAwareNatsSerializer() } : {}),
  };
  const graceMs = options.shutdownGraceMs ?? envInt('SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, { max: 600_000 });
  app.useGlobalInterceptors(new RequestContextInterceptor());
  app.connectMicroservice<MicroserviceOptions>(
    { strategy: new DrainingNatsServer(natsOptions, { service: options.service, graceMs }) },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(options.httpPort, '0.0.0.0');
  logger.log(
    `listening on NATS ${natsUrl()} (queue ${queueGroup(options.service)}), metrics on ${await app.getUrl()}/metrics`,
  );
  return app;
}
