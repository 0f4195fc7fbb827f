import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { envInt } from './cpus.js';
import { brokerStatus } from './broker.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export function natsUrl(): string {
  return process.env.NATS_URL || DEFAULT_NATS_URL;
}

/**
 * Replicas of the JetStream buckets Parley creates: 1 on a single server, 3 on the 3-node cluster
 * of deploy/k8s (NATS_KV_REPLICAS for the sessions KV, NATS_OBJECT_STORE_REPLICAS for uploads).
 */
export function bucketReplicas(kind: 'kv' | 'object-store', env: NodeJS.ProcessEnv = process.env): number {
  return envInt(kind === 'kv' ? 'NATS_KV_REPLICAS' : 'NATS_OBJECT_STORE_REPLICAS', 1, { max: 5 }, env);
}

/**
 * Every NATS connection of a Parley process reconnects for ever (the client's default gives up
 * after 10 attempts, ~20 s, and would leave the process deaf after a longer broker outage).
 */
export const NATS_RECONNECT = { maxReconnectAttempts: -1, reconnectTimeWait: 500 } as const;

/** DI token of the raw NATS connection (cancel subjects, key-value and object stores). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    // drain: let in-flight messages (a cancel, a last reply) go out before closing.
    await this.nats.drain().catch(() => this.nats.close());
  }
}

/**
 * A raw NATS connection next to NestJS's transport (which owns its own): NestJS's handlers do
 * not cover plain subscriptions outside a queue group, nor JetStream. Closed when the app stops.
 */
@Module({})
export class NatsConnectionModule {
  static forRoot(name: string): DynamicModule {
    return {
      module: NatsConnectionModule,
      global: true,
      providers: [
        {
          provide: NATS_CONNECTION,
          useFactory: async (): Promise<NatsConnection> => {
            const nats = await connect({ servers: natsUrl(), name, ...NATS_RECONNECT });
            brokerStatus(nats); // watched from the start, so that no outage goes unseen
            return nats;
          },
        },
        NatsConnectionCloser,
      ],
      exports: [NATS_CONNECTION],
    };
  }
}
