import type { LearnerProgress } from '@parley/contracts';

/** Learners' progress, shared by every gateway replica and kept across restarts. */
export interface LearnerStore {
  /** The stored progress under `key` (see learnerKey), or undefined for a learner never seen (or forgotten). */
  progress(key: string): Promise<LearnerProgress | undefined>;
  /**
   * Replaces the progress with `change(current)` atomically: when another writer got there first,
   * `change` is applied again to what it stored, so concurrent turns lose nothing.
   */
  update(key: string, change: (current: LearnerProgress | undefined) => LearnerProgress): Promise<void>;
  forget(key: string): Promise<void>;
}

export const LEARNER_STORE = Symbol('LEARNER_STORE');

/**
 * A learner as a caller names them. With API keys, learner ids live inside the key's own space
 * (`space` is the key's id): one key cannot read, count toward or delete another key's learners.
 */
export interface LearnerRef {
  id: string;
  space?: string;
}

/** Where a learner is stored: `<key id>.<learner id>` with keys (a learner id has no dot), else the id. */
export function learnerKey({ id, space }: LearnerRef): string {
  return space ? `${space}.${id}` : id;
}
