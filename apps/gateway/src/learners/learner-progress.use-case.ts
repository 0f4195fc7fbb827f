import { Inject, Injectable } from '@nestjs/common';
import type { LearnerProgress, LearnerVocabularyQuery, LearnerWord } from '@parley/contracts';
import { emptyProgress, recordTurn, vocabularyCsv, type LearnerTurn } from './learner-progress.js';
import { LEARNER_STORE, learnerKey, type LearnerRef, type LearnerStore } from './learner-store.port.js';

/** A learner's progress: counted at the end of each turn that names the learner, read, exported, forgotten. */
@Injectable()
export class LearnerProgressUseCase {
  constructor(@Inject(LEARNER_STORE) private readonly store: LearnerStore) {}

  recordTurn(learner: LearnerRef, turn: LearnerTurn): Promise<void> {
    return this.store.update(learnerKey(learner), (current) => recordTurn(current ?? emptyProgress(learner.id), turn));
  }

  /** A learner never seen has empty progress (as an unknown session has no messages). */
  async progress(learner: LearnerRef): Promise<LearnerProgress> {
    return (await this.store.progress(learnerKey(learner))) ?? emptyProgress(learner.id);
  }

  async vocabulary(learner: LearnerRef, query: LearnerVocabularyQuery): Promise<{ words: LearnerWord[]; csv?: string }> {
    const { vocabulary } = await this.progress(learner);
    const words = query.language ? vocabulary.filter((word) => word.language === query.language) : vocabulary;
    return query.format === 'csv' ? { words, csv: vocabularyCsv(words) } : { words };
  }

  forget(learner: LearnerRef): Promise<void> {
    return this.store.forget(learnerKey(learner));
  }
}
