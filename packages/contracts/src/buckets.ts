/**
 * The JetStream buckets shared by more than one process, defined once: every process that opens
 * one opens it with these settings (service-kit's `openObjectStore`), and a bucket that exists
 * with other settings is updated to them rather than refused.
 */
export interface BucketDefinition {
  name: string;
  /** How long an entry lives (JetStream max age). */
  ttlMs: number;
  description: string;
}

/**
 * Uploads waiting for the stt-service (NATS messages are limited to 1 MB): the gateway puts,
 * the stt-service reads and deletes; what a crashed replica leaves behind expires.
 */
export const AUDIO_BUCKET: BucketDefinition = {
  name: 'parley_audio',
  ttlMs: 10 * 60 * 1000,
  description: 'Parley uploads for the stt-service',
};
