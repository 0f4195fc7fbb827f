import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { ParleyError, storedMessageSchema, type StoredMessage } from '@parley/contracts';
import { openKeyValue } from '@parley/service-kit';
import { z } from 'zod';
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
  private readonly logger = new Logger('sessions');
  private bucket?: Promise<KV>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly options: KvSessionStoreOptions,
  ) {}

  private kv(): Promise<KV> {
    this.bucket ??= openKeyValue(this.nats, {
      name: this.options.bucket,
      ttlMs: this.options.ttlSeconds * 1000,
      description: 'Parley conversation sessions',
    }).catch((error: unknown) => {
        this.bucket = undefined;
        throw new ParleyError('SERVICE_UNAVAILABLE', `session store unavailable (is JetStream enabled on the NATS server?): ${String(error)}`);
      });
    return this.bucket;
  }

  async messages(sessionId: string): Promise<StoredMessage[]> {
    const entry = await (await this.kv()).get(sessionId);
    return entry && entry.operation === 'PUT' ? this.decode(entry.string()) : [];
  }

  async appendTurn(sessionId: string, turn: [StoredMessage, StoredMessage?]): Promise<void> {
    const kv = await this.kv();
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await kv.get(sessionId);
      const live = entry && entry.operation === 'PUT';
      const messages = [...(live ? this.decode(entry.string()) : []), ...turn.filter((m) => m !== undefined)].slice(-this.options.maxMessages);
      const value = JSON.stringify({ messages });
      try {
        // Both writes are conditional: update only the revision read, create only if still absent
        // (a plain put here let two replicas starting the same session overwrite each other).
        if (live) await kv.update(sessionId, value, entry.revision);
        else await kv.create(sessionId, value);
        return;
      } catch (error) {
        // Another replica wrote in between: read again and retry.
        this.logger.debug(`session ${sessionId} changed while appending (attempt ${attempt + 1}): ${String(error)}`);
        // A little jitter so that racing replicas do not collide again on the next attempt.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new ParleyError('SERVICE_UNAVAILABLE', `could not store the turn of session ${sessionId}: too many concurrent writes`);
  }

  async clear(sessionId: string): Promise<void> {
    await (await this.kv()).purge(sessionId);
  }

  private decode(json: string): StoredMessage[] {
    const parsed = storedSessionSchema.safeParse(JSON.parse(json));
    if (!parsed.success) {
      this.logger.warn('a stored session did not match the schema; starting it afresh');
      return [];
    }
    return parsed.data.messages;
  }
}
