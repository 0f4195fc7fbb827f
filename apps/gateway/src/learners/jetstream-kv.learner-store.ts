import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { learnerProgressSchema, ParleyError, type LearnerProgress } from '@parley/contracts';
import type { LearnerStore } from './learner-store.port.js';

/** How often a write is retried when other writers keep getting there first. */
const MAX_ATTEMPTS = 20;

/**
 * Learners' progress in a JetStream key-value bucket, one key per learner, kept until forgotten.
 * Writes are compare-and-set on the key's revision (create only if absent, update only the
 * revision read), so turns of one learner on any number of replicas are all counted. Within
 * one replica, writes to one learner are also queued, so they do not collide with each other.
 */
export class JetStreamKvLearnerStore implements LearnerStore {
  private readonly logger = new Logger('learners');
  private bucket?: Promise<KV>;
  /** The last write queued per learner in this replica. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly nats: NatsConnection,
    private readonly bucketName: string,
  ) {}

  private kv(): Promise<KV> {
    this.bucket ??= new Kvm(this.nats)
      .create(this.bucketName, { history: 1, description: 'Parley learner progress' })
      .catch((error: unknown) => {
        this.bucket = undefined;
        throw new ParleyError('SERVICE_UNAVAILABLE', `learner store unavailable (is JetStream enabled on the NATS server?): ${String(error)}`);
      });
    return this.bucket;
  }

  async progress(learnerId: string): Promise<LearnerProgress | undefined> {
    const entry = await (await this.kv()).get(learnerId);
    return entry && entry.operation === 'PUT' ? this.decode(learnerId, entry.string()) : undefined;
  }

  update(learnerId: string, change: (current: LearnerProgress | undefined) => LearnerProgress): Promise<void> {
    const previous = this.queues.get(learnerId) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.compareAndSet(learnerId, change));
    const queued = write.finally(() => {
      if (this.queues.get(learnerId) === queued) this.queues.delete(learnerId);
    });
    this.queues.set(learnerId, queued.catch(() => undefined));
    return write;
  }

  async forget(learnerId: string): Promise<void> {
    await (await this.kv()).purge(learnerId);
  }

  private async compareAndSet(learnerId: string, change: (current: LearnerProgress | undefined) => LearnerProgress): Promise<void> {
    const kv = await this.kv();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const entry = await kv.get(learnerId);
      const live = entry && entry.operation === 'PUT';
      const value = JSON.stringify(change(live ? this.decode(learnerId, entry.string()) : undefined));
      try {
        if (live) await kv.update(learnerId, value, entry.revision);
        else await kv.create(learnerId, value);
        return;
      } catch (error) {
        // Another replica wrote in between: read again, apply the change again.
        this.logger.debug(`learner ${learnerId} changed while updating (attempt ${attempt}): ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
    throw new ParleyError('SERVICE_UNAVAILABLE', `could not store the progress of learner ${learnerId}: too many concurrent writes`);
  }

  private decode(learnerId: string, json: string): LearnerProgress | undefined {
    const parsed = learnerProgressSchema.safeParse(JSON.parse(json));
    if (!parsed.success) this.logger.warn(`the stored progress of learner ${learnerId} did not match the schema; starting it afresh`);
    return parsed.success ? parsed.data : undefined;
  }
}
