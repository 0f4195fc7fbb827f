import type { LearnerProgress } from '@parley/contracts';

/** Learners' progress, shared by every gateway replica and kept across restarts. */
export interface LearnerStore {
  /** The stored progress, or undefined for a learner never seen (or forgotten). */
  progress(learnerId: string): Promise<LearnerProgress | undefined>;
  /**
   * Replaces the progress with `change(current)` atomically: when another writer got there first,
   * `change` is applied again to what it stored, so concurrent turns lose nothing.
   */
  update(learnerId: string, change: (current: LearnerProgress | undefined) => LearnerProgress): Promise<void>;
  forget(learnerId: string): Promise<void>;
}

export const LEARNER_STORE = Symbol('LEARNER_STORE');
