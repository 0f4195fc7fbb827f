import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { AUDIO_BUCKET, ParleyError } from '@parley/contracts';
import { bucketReplicas } from '@parley/service-kit';
import type { AudioStore } from './audio-store.port.js';

export interface JetStreamAudioStoreOptions {
  bucket?: string;
  /** Objects left behind (a reader that died) expire after this long: AUDIO_BUCKET_TTL_MS, the same on every side. */
  ttlMs: number;
}

/** The AUDIO_BUCKET JetStream object store, opened (or created with a TTL) on first use. */
export class JetStreamAudioStore implements AudioStore {
  private readonly logger = new Logger('audio-store');
  private store?: Promise<ObjectStore>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly options: JetStreamAudioStoreOptions,
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
    return this.options.bucket ?? AUDIO_BUCKET;
  }

  private open(): Promise<ObjectStore> {
    this.store ??= new Objm(this.nats)
      .create(this.bucket, { ttl: this.options.ttlMs * 1_000_000, description: 'Parley uploads for the stt-service', replicas: bucketReplicas('object-store') })
      .catch((error: unknown) => {
        this.store = undefined;
        throw new ParleyError('SERVICE_UNAVAILABLE', `the audio object store is unavailable: ${error instanceof Error ? error.message : String(error)}`);
      });
    return this.store;
  }
}
