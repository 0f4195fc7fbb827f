import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { learnerProgressSchema, type LearnerProgress } from '@parley/contracts';
import { KvDocuments } from '../storage/kv-bucket.js';
import type { LearnerStore } from './learner-store.port.js';

/** How often a write is retried when other replicas keep getting there first. */
const MAX_ATTEMPTS = 20;
/** JetStream's max age 0: progress is kept until the learner is deleted. */
const KEEP_FOREVER = 0;

/**
 * Learners' progress in a JetStream key-value bucket, one key per learner, kept until forgotten.
 * Writes are compare-and-set on the key's revision, so turns of one learner on any number of
 * replicas are all counted. Within one replica, writes to one learner are also queued, so they
 * do not collide with each other.
 */
export class JetStreamKvLearnerStore implements LearnerStore {
  private readonly learners: KvDocuments<LearnerProgress>;
  /** The last write queued per learner in this replica. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(nats: NatsConnection, bucket: string) {
    const definition = { name: bucket, ttlMs: KEEP_FOREVER, description: 'Parley learner progress' };
    this.learners = new KvDocuments(nats, definition, learnerProgressSchema, new Logger('learners'), 'learner');
  }

  progress(key: string): Promise<LearnerProgress | undefined> {
    return this.learners.get(key);
  }

  update(key: string, change: (current: LearnerProgress | undefined) => LearnerProgress): Promise<void> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const write = previous.then(() => this.learners.update(key, change, MAX_ATTEMPTS));
    const settled = write.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return write;
  }

  forget(key: string): Promise<void> {
    return this.learners.purge(key);
  }
}
