import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { storedMessageSchema, type StoredMessage } from '@parley/contracts';
import { z } from 'zod';
import { KvDocuments } from '../storage/kv-bucket.js';
import type { SessionStore } from './session-store.port.js';

const storedSessionSchema = z.object({ messages: z.array(storedMessageSchema) });

export interface KvSessionStoreOptions {
  bucket: string;
  ttlSeconds: number;
  maxMessages: number;
}

/**
 * Sessions in a NATS JetStream key-value bucket: one key per session, expiring `ttlSeconds` after
 * its last write. Appends use compare-and-set on the key's revision so that two gateway replicas
 * writing the same session never lose a turn.
 */
export class JetStreamKvSessionStore implements SessionStore {
  private readonly sessions: KvDocuments<z.infer<typeof storedSessionSchema>>;

  constructor(
    nats: NatsConnection,
    private readonly options: KvSessionStoreOptions,
  ) {
    const bucket = {
      name: options.bucket,
      ttlMs: options.ttlSeconds * 1000,
      description: 'Parley conversation sessions',
    };
    this.sessions = new KvDocuments(nats, bucket, storedSessionSchema, new Logger('sessions'), 'session');
  }

  async messages(sessionId: string): Promise<StoredMessage[]> {
    return (await this.sessions.get(sessionId))?.messages ?? [];
  }

  appendTurn(sessionId: string, turn: [StoredMessage, StoredMessage?]): Promise<void> {
    return this.sessions.update(
      sessionId,
      (current) => ({ messages: [...(current?.messages ?? []), ...turn.filter((m) => m !== undefined)].slice(-this.options.maxMessages) }),
      5,
    );
  }

  async clear(sessionId: string): Promise<void> {
    await this.sessions.purge(sessionId);
  }
}
