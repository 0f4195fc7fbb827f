import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import { AUDIO_BUCKET, ParleyError, type BucketDefinition } from '@parley/contracts';
import { openObjectStore } from '@parley/service-kit';
import type { AudioStore } from './audio-store.port.js';

/** The AUDIO_BUCKET JetStream object store, opened (or created, or updated to its definition) on first use. */
export class JetStreamAudioStore implements AudioStore {
  private readonly logger = new Logger('audio-store');
  private store?: Promise<ObjectStore>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly definition: BucketDefinition = AUDIO_BUCKET,
  ) {}

  async read(name: string, maxBytes: number): Promise<Uint8Array> {
    const store = await this.open();
    const info = await store.info(name);
    if (!info || info.deleted) {
      throw new ParleyError('NOT_FOUND', `audio object ${name} not found in ${this.bucket} (never uploaded, already used, or expired)`);
    }
    if (info.size > maxBytes) {
      throw new ParleyError('PAYLOAD_TOO_LARGE', `the audio file is ${info.size} bytes; the limit is ${maxBytes} bytes`);
    }
    const bytes = await store.getBlob(name);
    if (!bytes) throw new ParleyError('NOT_FOUND', `audio object ${name} disappeared while being read`);
    return bytes;
  }

  async remove(name: string): Promise<void> {
    try {
      const store = await this.open();
      await store.delete(name);
    } catch (error) {
      // The TTL collects it anyway.
      this.logger.warn(`could not delete audio object ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private get bucket(): string {
    return this.definition.name;
  }

  private open(): Promise<ObjectStore> {
    this.store ??= openObjectStore(this.nats, this.definition).catch((error: unknown) => {
        this.store = undefined;
        throw new ParleyError('SERVICE_UNAVAILABLE', `the audio object store is unavailable: ${error instanceof Error ? error.message : String(error)}`);
      });
    return this.store;
  }
}
