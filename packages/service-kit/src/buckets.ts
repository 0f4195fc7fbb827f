import { Logger } from '@nestjs/common';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BucketDefinition } from '@parley/contracts';
import { bucketReplicas } from './nats.js';

const logger = new Logger('buckets');
const nanos = (ms: number) => ms * 1_000_000;

/** A JetStream object store with the definition's settings, whoever created it first and however. */
export async function openObjectStore(nats: NatsConnection, bucket: BucketDefinition): Promise<ObjectStore> {
  const replicas = bucketReplicas('object-store');
  const open = () =>
    new Objm(nats).create(bucket.name, { ttl: nanos(bucket.ttlMs), description: bucket.description, replicas });
  return openBucket(nats, `OBJ_${bucket.name}`, { ...bucket, replicas }, open);
}

/** A JetStream key-value bucket (one value per key) with the definition's settings. */
export async function openKeyValue(nats: NatsConnection, bucket: BucketDefinition): Promise<KV> {
  const replicas = bucketReplicas('kv');
  const open = () =>
    new Kvm(nats).create(bucket.name, { history: 1, ttl: bucket.ttlMs, description: bucket.description, replicas });
  return openBucket(nats, `KV_${bucket.name}`, { ...bucket, replicas }, open);
}

/**
 * Opens a bucket idempotently. The client creates a bucket only when none exists, and uses an
 * existing one as it is: one left by an older release (another TTL, another replica count) is
 * updated here to this definition; if the server refuses the update (a setting it cannot
 * change), the bucket is used as it is and the difference logged, never a start-up failure.
 * Two processes creating it at the same instant race; the loser opens the winner's bucket.
 */
/** A bucket definition with the replica count this deployment asks for (NATS_KV_REPLICAS, NATS_OBJECT_STORE_REPLICAS). */
type ReplicatedBucket = BucketDefinition & { replicas: number };

async function openBucket<B>(
  nats: NatsConnection,
  stream: string,
  bucket: ReplicatedBucket,
  open: () => Promise<B>,
): Promise<B> {
  let opened: B;
  try {
    opened = await open();
  } catch (error) {
    if (!/already in use/i.test(String(error))) throw error;
    opened = await open();
  }
  await applySettings(await jetstreamManager(nats), stream, bucket);
  return opened;
}

async function applySettings(jsm: JetStreamManager, stream: string, bucket: ReplicatedBucket): Promise<void> {
  const { config } = await jsm.streams.info(stream);
  if (config.max_age === nanos(bucket.ttlMs) && config.num_replicas === bucket.replicas) return;
  const was = `TTL ${config.max_age / 1e6} ms, ${config.num_replicas} replica(s)`;
  const wanted = `TTL ${bucket.ttlMs} ms, ${bucket.replicas} replica(s)`;
  try {
    await jsm.streams.update(stream, {
      ...config,
      max_age: nanos(bucket.ttlMs),
      num_replicas: bucket.replicas,
      description: bucket.description,
    });
    logger.log(`bucket ${bucket.name}: updated from ${was} to ${wanted}`);
  } catch (error) {
    logger.warn(`bucket ${bucket.name} kept ${was} (wanted ${wanted}): ${String(error)}`);
  }
}
