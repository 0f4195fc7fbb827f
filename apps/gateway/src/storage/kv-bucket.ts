import type { Logger } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ParleyError, type BucketDefinition } from '@parley/contracts';
import { brokerStatus, onBroker, openKeyValue, type BrokerStatus } from '@parley/service-kit';
import type { z } from 'zod';

/**
 * One JetStream key-value bucket of JSON documents, opened on first use, as the gateway's stores
 * use it: read a document, replace it conditionally, purge it.
 */
export class KvDocuments<T> {
  private bucket?: Promise<KV>;
  private readonly broker: BrokerStatus;

  constructor(
    private readonly nats: NatsConnection,
    private readonly definition: BucketDefinition,
    private readonly schema: z.ZodType<T>,
    private readonly logger: Logger,
    /** What a document is, for messages ("session", "learner"). */
    private readonly what: string,
  ) {
    // While the broker is unreachable, reads and writes fail at once with BROKER_UNAVAILABLE.
    this.broker = brokerStatus(nats);
  }

  private kv(): Promise<KV> {
    this.bucket ??= openKeyValue(this.nats, this.definition).catch((error: unknown) => {
      this.bucket = undefined;
      throw new ParleyError(
        'SERVICE_UNAVAILABLE',
        `${this.what} store unavailable (is JetStream enabled on the NATS server?): ${String(error)}`,
      );
    });
    return this.bucket;
  }

  /** The document under `key`; undefined when there is none (or it does not match the schema). */
  async get(key: string): Promise<T | undefined> {
    const entry = await onBroker(this.broker, async () => (await this.kv()).get(key));
    return entry && entry.operation === 'PUT' ? this.decode(key, entry.string()) : undefined;
  }

  /**
   * Replaces the document under `key` with `change(current)`. Both writes are conditional: update
   * only the revision read, create only if still absent (a plain put let two replicas starting the
   * same document overwrite each other). When another writer got there first, `change` is applied
   * again to what it wrote, so concurrent changes are all kept.
   */
  async update(key: string, change: (current: T | undefined) => T, attempts: number): Promise<void> {
    const kv = await onBroker(this.broker, () => this.kv());
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const entry = await onBroker(this.broker, () => kv.get(key));
      const live = entry && entry.operation === 'PUT';
      const value = JSON.stringify(change(live ? this.decode(key, entry.string()) : undefined));
      try {
        if (live) await kv.update(key, value, entry.revision);
        else await kv.create(key, value);
        return;
      } catch (error) {
        this.broker.assertUp();
        this.logger.debug(`${this.what} ${key} changed while writing it (attempt ${attempt}): ${String(error)}`);
        // A little jitter so that racing writers do not collide again on the next attempt.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
    throw new ParleyError('SERVICE_UNAVAILABLE', `could not store ${this.what} ${key}: too many concurrent writes`);
  }

  async purge(key: string): Promise<void> {
    await onBroker(this.broker, async () => (await this.kv()).purge(key));
  }

  private decode(key: string, json: string): T | undefined {
    const parsed = this.schema.safeParse(JSON.parse(json));
    if (!parsed.success)
      this.logger.warn(`the stored ${this.what} ${key} did not match the schema; starting it afresh`);
    return parsed.success ? parsed.data : undefined;
  }
}
